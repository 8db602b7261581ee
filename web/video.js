// Videos on the demo page: POST /v1/videos, the job's progress while it runs, then the original and
// the anonymized video side by side, each playable (the result is fetched with the key, as a blob).
import { ApiError } from './stream.js';

const $ = (selector, root = document) => root.querySelector(selector);

export function isVideo(file) {
  return file.type.startsWith('video/') || /\.(mp4|m4v|mov|mkv|webm|ts|mts)$/i.test(file.name);
}

async function apiError(res) {
  const body = await res.json().catch(() => undefined);
  return new ApiError(res.status, body?.error?.code ?? `HTTP_${res.status}`, body?.error?.message ?? res.statusText, Number(res.headers.get('retry-after')) || undefined);
}

/** Swaps a card's two images for video players; returns the anonymized one. */
function videoFrames(card, file) {
  const [original, anonymized] = [...card.querySelectorAll('.frame')].map((frame, i) => {
    const video = document.createElement('video');
    video.controls = true;
    video.muted = true;
    video.className = i === 0 ? 'original' : 'anonymized';
    frame.replaceChildren(video);
    return video;
  });
  original.src = URL.createObjectURL(file);
  return anonymized;
}

/** One video through the HTTP API; `ui` is the page's card helpers (setState, fail). */
export async function sendVideo(file, card, options, key, ui) {
  const anonymized = videoFrames(card, file);
  const headers = { 'Content-Type': file.type || 'application/octet-stream', ...(key ? { Authorization: `Bearer ${key}` } : {}) };
  const query = new URLSearchParams({ blur: options.blur, shape: options.shape, detect: options.detect.join(',') });
  try {
    const res = await fetch(`/v1/videos?${query}`, { method: 'POST', body: file, headers });
    if (res.status !== 202) throw await apiError(res);
    const { job_id: jobId } = await res.json();
    card.dataset.jobId = jobId;
    let job;
    for (;;) {
      const poll = await fetch(`/v1/jobs/${jobId}?wait=2s`, { headers });
      if (!poll.ok) throw await apiError(poll);
      job = await poll.json();
      if (job.status === 'completed' || job.status === 'failed') break;
      const p = job.progress;
      ui.setState(card, 'queued', p ? `frame ${p.frames_done} of ${p.frames_total}` : job.status);
    }
    $('.json', card).textContent = JSON.stringify(job, null, 2);
    if (job.status !== 'completed') throw new ApiError(0, job.error?.code ?? 'JOB_FAILED', job.error?.message ?? 'The job failed');
    const result = await fetch(`/v1/jobs/${jobId}/result`, { headers });
    if (!result.ok) throw await apiError(result);
    anonymized.src = URL.createObjectURL(await result.blob());
    anonymized.closest('.frame')?.classList.remove('pending');
    const tracks = Object.entries(job.result.video.tracks).map(([kind, n]) => `${n} ${kind} ${n === 1 ? 'track' : 'tracks'}`).join(', ') || 'no tracks';
    $('.counts', card).textContent = `${job.result.video.frames} frames, ${tracks}`;
    ui.setState(card, 'completed', `done in ${(job.result.total_ms / 1000).toFixed(1)} s`);
  } catch (err) {
    ui.fail(card, err);
  }
}
