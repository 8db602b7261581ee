// The only module that imports uWebSockets.js, so the package (an npm republish, see README) can be swapped.
import uWS from 'uWebSockets.js';

export type { HttpRequest, HttpResponse, TemplatedApp, WebSocket, us_listen_socket } from 'uWebSockets.js';
export const createApp = (): uWS.TemplatedApp => uWS.App();
export const closeListenSocket = (socket: uWS.us_listen_socket): void => uWS.us_listen_socket_close(socket);
export const listenPort = (socket: uWS.us_listen_socket): number => uWS.us_socket_local_port(socket as unknown as uWS.us_socket);
