// k6 load test matching the seed service's: ramp up virtual users that upload photos and poll
// their jobs. k6 is not installable on our build machines; `npm run bench` does the equivalent
// measurement with a Node client (bench/http-load.ts). Run: k6 run -e BASE_URL=http://localhost:8000 -e IMAGE=photo.jpg bench/k6/upload.js
import http from 'k6/http';
import { check, sleep } from 'k6';
import { Trend, Rate } from 'k6/metrics';

const BASE_URL = __ENV.BASE_URL || 'http://localhost:8000';
const image = open(__ENV.IMAGE || 'photo.jpg', 'b');
const endToEnd = new Trend('pixveil_end_to_end_ms', true);
const failed = new Rate('pixveil_failed_jobs');

export const options = {
  stages: [
    { duration: '30s', target: 10 },
    { duration: '1m', target: 50 },
    { duration: '2m', target: 50 },
    { duration: '30s', target: 0 },
  ],
  thresholds: {
    http_req_failed: ['rate<0.01'],
    pixveil_end_to_end_ms: ['p(95)<5000'],
    pixveil_failed_jobs: ['rate<0.01'],
  },
};

export default function () {
  const headers = __ENV.API_KEY ? { 'X-API-Key': __ENV.API_KEY } : {};
  const start = Date.now();
  const res = http.post(`${BASE_URL}/v1/images`, { file: http.file(image, 'photo.jpg', 'image/jpeg') }, { headers });
  check(res, { 'upload accepted (202)': (r) => r.status === 202 });
  if (res.status !== 202) return;
  const jobId = res.json('job_id');
  for (let i = 0; i < 10; i++) {
    const job = http.get(`${BASE_URL}/v1/jobs/${jobId}?wait=10s`, { headers });
    const status = job.json('status');
    if (status === 'completed' || status === 'failed') {
      endToEnd.add(Date.now() - start);
      failed.add(status === 'failed');
      break;
    }
  }
  sleep(0.1);
}
