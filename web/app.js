// The demo page: options form, file picker and drop zone, one result card per image.
import { drawDetections } from './overlay.js';
import { ApiError, StreamSession } from './stream.js';
import { isVideo, sendVideo } from './video.js';

const KEY_STORAGE = 'pixveil.apiKey';

const $ = (selector, root = document) => root.querySelector(selector);
const form = $('#options');
const keyInput = $('#api-key');
const notice = $('#notice');
const results = $('#results');
// Until /web/config.json answers: the built-in kinds; the server's list (src/kinds.ts) replaces them.
let settings = {
  auth: 'off',
  max_upload_bytes: Infinity,
  detectors: { faces: true, plates: true, objects: true },
  kinds: [{ slot: 'faces', name: 'face' }, { slot: 'plates', name: 'plate' }, { slot: 'objects', name: 'object', labelled_by_class: true }],
};

function showNotice(message) {
  notice.textContent = message;
  notice.hidden = !message;
}

function formatBytes(n) {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(n >= 10 * 1024 * 1024 ? 0 : 1)} MB` : `${Math.ceil(n / 1024)} KB`;
}

async function loadSettings() {
  try {
    const res = await fetch('/web/config.json');
    if (res.ok) settings = await res.json();
  } catch {
    // The defaults above still let the page work; the server reports what is wrong on upload.
  }
  showKinds();
  for (const box of form.querySelectorAll('input[name=detect]')) {
    if (settings.detectors[box.value]) continue;
    box.checked = false;
    box.disabled = true;
    box.parentElement.title = 'not configured on this server';
  }
  if (Number.isFinite(settings.max_upload_bytes)) $('#limit').textContent = `, up to ${formatBytes(settings.max_upload_bytes)} each`;
  if (settings.auth === 'on') {
    keyInput.placeholder = 'required (AUTH=on)';
    keyInput.required = true;
  } else keyInput.placeholder = 'not needed (AUTH=off)';
}

/** One Detect checkbox per kind the server knows, in its order. */
function showKinds() {
  const fieldset = $('#detect-kinds');
  const legend = $('legend', fieldset);
  fieldset.replaceChildren(
    legend,
    ...settings.kinds.map((kind) => {
      const label = document.createElement('label');
      const box = document.createElement('input');
      Object.assign(box, { type: 'checkbox', name: 'detect', value: kind.slot, checked: true });
      label.append(box, ` ${kind.slot}`);
      return label;
    }),
  );
}

function chosenOptions() {
  const data = new FormData(form);
  return { blur: data.get('blur'), shape: data.get('shape'), detect: data.getAll('detect') };
}

function newCard(file) {
  const card = $('#result-card').content.firstElementChild.cloneNode(true);
  $('.name', card).textContent = file.name;
  const original = $('img.original', card);
  original.alt = `${file.name}, original`;
  // A video's card gets players instead (video.js).
  if (!isVideo(file)) original.src = URL.createObjectURL(file);
  // Not an image the browser can show (the server decides what it accepts): say so instead of a broken icon.
  original.addEventListener('error', () => original.closest('.frame').classList.add('no-preview'), { once: true });
  original.addEventListener('load', () => {
    // Keeps the anonymized side the same height while it is being made.
    $('.frame.pending', card)?.style.setProperty('aspect-ratio', `${original.naturalWidth} / ${original.naturalHeight}`);
  }, { once: true });
  results.prepend(card);
  return card;
}

function setState(card, state, text = state) {
  const badge = $('.state', card);
  badge.dataset.state = state;
  badge.textContent = text;
}

function fail(card, err) {
  setState(card, 'failed');
  card.classList.add('failed');
  const box = $('.error', card);
  const hint = err.status === 401 ? ' Enter a valid API key above.' : '';
  box.textContent = (err instanceof ApiError ? err.describe() : String(err.message ?? err)) + hint;
  box.hidden = false;
  $('.frame.pending', card)?.classList.add('empty');
}

function showResult(card, job, image) {
  card.dataset.jobId = job.job_id;
  $('.json', card).textContent = JSON.stringify(job, null, 2);
  const n = job.result?.detections.length ?? 0;
  $('summary', card).textContent = `job record and detection JSON (${n} ${n === 1 ? 'detection' : 'detections'})`;
  if (job.status !== 'completed') {
    fail(card, new ApiError(job.error?.status ?? 0, job.error?.code ?? 'JOB_FAILED', job.error?.message ?? `Job ended ${job.status}`));
    return;
  }
  const { width, height, detections, total_ms: totalMs } = job.result;
  const counts = $('.counts', card);
  counts.replaceChildren(
    ...settings.kinds.map(({ name: kind, slot: plural }) => {
      const n = detections.filter((d) => d.kind === kind).length;
      const span = document.createElement('span');
      span.className = `count count-${kind}`;
      span.dataset.kind = kind;
      span.innerHTML = `<b>${n}</b> ${n === 1 ? kind : plural}`;
      return span;
    }),
  );
  const used = document.createElement('span');
  used.className = 'used';
  used.textContent = `${job.options.blur}, ${job.options.shape}`;
  counts.append(used);
  const anonymized = $('img.anonymized', card);
  anonymized.alt = `${$('.name', card).textContent}, anonymized`;
  anonymized.addEventListener('load', () => $('.frame.pending', card)?.classList.remove('pending'), { once: true });
  anonymized.src = URL.createObjectURL(image);
  for (const svg of card.querySelectorAll('svg.overlay')) drawDetections(svg, detections, width, height, new Set(settings.kinds.filter((k) => k.labelled_by_class).map((k) => k.name)));
  setState(card, 'completed', `done in ${Math.round(totalMs)} ms`);
}

async function handleFiles(fileList) {
  const files = [...fileList];
  if (files.length === 0) return;
  const options = chosenOptions();
  if (options.detect.length === 0) {
    showNotice('Choose at least one detector.');
    return;
  }
  showNotice('');
  // Videos go over HTTP one by one (POST /v1/videos), images over the WebSocket below.
  for (const file of files.filter(isVideo)) void sendVideo(file, newCard(file), options, keyInput.value.trim(), { setState, fail });
  const cards = files.filter((file) => !isVideo(file)).map((file) => ({ file, card: newCard(file) }));
  const sendable = [];
  for (const item of cards) {
    // The server would close the connection on a message over its limit; say so before sending.
    if (item.file.size > settings.max_upload_bytes) {
      fail(item.card, new ApiError(413, 'PAYLOAD_TOO_LARGE', `${item.file.name} is ${formatBytes(item.file.size)}, over this server's limit of ${formatBytes(settings.max_upload_bytes)} (MAX_UPLOAD_BYTES)`));
    } else sendable.push(item);
  }
  if (sendable.length === 0) return;

  let session;
  try {
    session = await StreamSession.open(options, keyInput.value.trim());
  } catch (err) {
    const hint = err.status === 401 ? ' Enter a valid API key above.' : '';
    showNotice(`${err.describe()}${hint}`);
    for (const { card } of sendable) fail(card, err);
    return;
  }
  const finished = [];
  // One at a time until acked: acks carry only a job id, so order is what ties them to files.
  for (const { file, card } of sendable) {
    try {
      const jobId = await session.submit(await file.arrayBuffer());
      card.dataset.jobId = jobId;
      setState(card, 'queued', 'processing…');
      finished.push(session.result(jobId).then(({ job, image }) => showResult(card, job, image), (err) => fail(card, err)));
    } catch (err) {
      fail(card, err);
    }
  }
  await Promise.allSettled(finished);
  session.close();
}

function wireDropZone() {
  const zone = $('#drop');
  const input = $('#files');
  input.addEventListener('change', () => {
    void handleFiles(input.files);
    input.value = '';
  });
  zone.addEventListener('dragover', (event) => {
    event.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('over');
    void handleFiles(event.dataTransfer.files);
  });
}

function wireKey() {
  keyInput.value = sessionStorage.getItem(KEY_STORAGE) ?? '';
  keyInput.addEventListener('input', () => {
    const key = keyInput.value.trim();
    if (key) sessionStorage.setItem(KEY_STORAGE, key);
    else sessionStorage.removeItem(KEY_STORAGE);
  });
}

$('#show-boxes').addEventListener('change', (event) => results.classList.toggle('no-boxes', !event.target.checked));
wireDropZone();
wireKey();
void loadSettings();
