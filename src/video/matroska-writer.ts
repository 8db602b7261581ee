// The bytes of a streaming Matroska file of raw RGB frames, each with its own timestamp: what the
// encoding ffmpeg reads on its stdin, so a variable-rate video keeps every frame's time (a raw
// frame pipe carries no time at all). Only what ffmpeg's demuxer needs is written: no cues, no
// seeking, a Segment of unknown size, one Cluster per frame.

/** EBML element IDs used here (Matroska spec, with their marker bits). */
const ID = {
  EBML: 0x1a45dfa3,
  EBMLVersion: 0x4286,
  EBMLReadVersion: 0x42f7,
  EBMLMaxIDLength: 0x42f2,
  EBMLMaxSizeLength: 0x42f3,
  DocType: 0x4282,
  DocTypeVersion: 0x4287,
  DocTypeReadVersion: 0x4285,
  Segment: 0x18538067,
  Info: 0x1549a966,
  TimestampScale: 0x2ad7b1,
  MuxingApp: 0x4d80,
  WritingApp: 0x5741,
  Tracks: 0x1654ae6b,
  TrackEntry: 0xae,
  TrackNumber: 0xd7,
  TrackUID: 0x73c5,
  TrackType: 0x83,
  FlagLacing: 0x9c,
  CodecID: 0x86,
  DefaultDuration: 0x23e383,
  Video: 0xe0,
  PixelWidth: 0xb0,
  PixelHeight: 0xba,
  ColourSpace: 0x2eb524,
  Cluster: 0x1f43b675,
  Timestamp: 0xe7,
  SimpleBlock: 0xa3,
} as const;

/** ffmpeg's raw pixel-format tag for packed RGB ('R','G','B',24): its demuxer decodes V_UNCOMPRESSED with it as rgb24. */
const RGB24_FOURCC = Buffer.from([0x52, 0x47, 0x42, 24]);

/** Size field meaning "unknown": the Segment runs to the end of the stream. */
const UNKNOWN_SIZE = Buffer.from([0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

function idBytes(id: number): Buffer {
  const bytes: number[] = [];
  for (let v = id; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return Buffer.from(bytes);
}

/** An element size as an EBML variable-length integer (8 bytes at most, so sizes under 2^56 - 1). */
function sizeBytes(size: number): Buffer {
  let length = 1;
  while (length < 8 && size >= 2 ** (7 * length) - 1) length++;
  const out = Buffer.alloc(length);
  let v = size;
  for (let i = length - 1; i >= 0; i--) {
    out[i] = v % 256;
    v = Math.floor(v / 256);
  }
  out[0] |= 0x80 >> (length - 1);
  return out;
}

/** An unsigned integer in as few bytes as hold it (exact up to 2^53). */
function uintBytes(value: number): Buffer {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`Expected an unsigned integer for a Matroska field but received ${value}`);
  const bytes: number[] = [];
  for (let v = value; v > 0 || bytes.length === 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return Buffer.from(bytes);
}

function element(id: number, body: Buffer | Buffer[]): Buffer {
  const data = Array.isArray(body) ? Buffer.concat(body) : body;
  return Buffer.concat([idBytes(id), sizeBytes(data.length), data]);
}

const uint = (id: number, value: number) => element(id, uintBytes(value));
const text = (id: number, value: string) => element(id, Buffer.from(value, 'ascii'));

export interface RawVideoTrack {
  width: number;
  height: number;
  /** Nanoseconds per timestamp tick (Matroska's TimestampScale). */
  tickNs: number;
  /** Nanoseconds a frame lasts when nothing else says: the last frame's duration, and the rate ffmpeg reports. */
  frameDurationNs: number;
}

/** EBML header, the start of a Segment of unknown size, Info and the one video track (rgb24). */
export function matroskaHeader(track: RawVideoTrack): Buffer {
  const ebml = element(ID.EBML, [
    uint(ID.EBMLVersion, 1),
    uint(ID.EBMLReadVersion, 1),
    uint(ID.EBMLMaxIDLength, 4),
    uint(ID.EBMLMaxSizeLength, 8),
    text(ID.DocType, 'matroska'),
    uint(ID.DocTypeVersion, 4),
    uint(ID.DocTypeReadVersion, 2),
  ]);
  const info = element(ID.Info, [uint(ID.TimestampScale, track.tickNs), text(ID.MuxingApp, 'pixveil'), text(ID.WritingApp, 'pixveil')]);
  const video = element(ID.Video, [uint(ID.PixelWidth, track.width), uint(ID.PixelHeight, track.height), element(ID.ColourSpace, RGB24_FOURCC)]);
  const entry = element(ID.TrackEntry, [
    uint(ID.TrackNumber, 1),
    uint(ID.TrackUID, 1),
    uint(ID.TrackType, 1),
    uint(ID.FlagLacing, 0),
    text(ID.CodecID, 'V_UNCOMPRESSED'),
    uint(ID.DefaultDuration, Math.max(1, Math.round(track.frameDurationNs))),
    video,
  ]);
  return Buffer.concat([ebml, idBytes(ID.Segment), UNKNOWN_SIZE, info, element(ID.Tracks, entry)]);
}

/**
 * What goes before one frame's pixels: a Cluster at the frame's timestamp (in ticks) holding one
 * SimpleBlock of `frameBytes` pixels (track 1, at the cluster's time, a keyframe). A cluster per
 * frame keeps any timestamp exact: a block's own offset is only 16 bits of ticks.
 */
export function matroskaFrameHeader(ticks: number, frameBytes: number): Buffer {
  const timestamp = uint(ID.Timestamp, ticks);
  // Track number 1 as a vint, relative timestamp 0 (int16), flags: keyframe.
  const blockHead = Buffer.from([0x81, 0x00, 0x00, 0x80]);
  const blockSize = blockHead.length + frameBytes;
  const simpleBlock = Buffer.concat([idBytes(ID.SimpleBlock), sizeBytes(blockSize), blockHead]);
  const clusterSize = timestamp.length + simpleBlock.length + frameBytes;
  return Buffer.concat([idBytes(ID.Cluster), sizeBytes(clusterSize), timestamp, simpleBlock]);
}

/**
 * Nanoseconds per tick for a stream time base num/den: exact when 1e9·num/den is a whole number
 * (1/1000, 1/12800), else 1 µs (1/90000, 1/10240), which still brings every timestamp of a time
 * base coarser than 2 µs back to its own tick.
 */
export function tickNsFor(num: number, den: number): number {
  const ns = (1e9 * num) / den;
  return Number.isInteger(ns) && ns >= 1 ? ns : 1000;
}
