// Settings: one frozen, fully filled object; detection settings nested and handed whole to the pool;
// renamed variables still honoured under their old names.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { defaults } from '../../src/config/defaults.js';
import { DEFAULT_DETECTION_SETTINGS, ULTRAFACE_TILED_DETECTION_SETTINGS } from '../../src/config/detection.js';
import { ConfigSchema } from '../../src/config/schema.js';
import { poolOptionsFromConfig } from '../../src/pool/pool-options.js';

test('every default is filled in and the result is frozen, detection settings included', () => {
  const config = loadConfig({});
  for (const key of Object.keys(defaults)) assert.ok(key in config, `${key} missing from the loaded config`);
  assert.ok(Object.isFrozen(config));
  assert.ok(Object.isFrozen(config.detection));
  assert.deepEqual(config.detection, DEFAULT_DETECTION_SETTINGS);
  assert.equal(config.retryBaseMs, defaults.retryBaseMs);
});

test('the flat detection variables land in one DetectionSettings; the rest keep their defaults', () => {
  const config = loadConfig({ TILING: 'fallback', FACE_TILE_SCALE: '3', PLATE_BLUR_MARGIN: '0.3', FACES_ON_PERSONS: 'false', MAX_PERSONS: '2' });
  assert.deepEqual(config.detection, {
    ...DEFAULT_DETECTION_SETTINGS,
    tiling: 'fallback',
    tileScale: { faces: 3, plates: DEFAULT_DETECTION_SETTINGS.tileScale.plates },
    blurMargin: { face: DEFAULT_DETECTION_SETTINGS.blurMargin.face, plate: 0.3 },
    facesOnPersons: false,
    maxPersons: 2,
  });
  // The pool gets the same object, not fields re-nested on the way.
  assert.equal(poolOptionsFromConfig(config).detection, config.detection);
});

test('bad detection values name their variable', () => {
  assert.throws(() => loadConfig({ TILING: 'sometimes' }), (err: unknown) => err instanceof ConfigError && /TILING/.test(err.message) && /auto, fallback, off/.test(err.message));
  assert.throws(() => loadConfig({ FACE_TILE_SCALE: '0.5' }), (err: unknown) => err instanceof ConfigError && /FACE_TILE_SCALE/.test(err.message));
});

test('the engine v2 settings: FACE_INPUT_LONG_SIDE and FACE_CROP_INPUT (multiples of 32), PLATE_CROP_BELOW_PX, MAX_VEHICLES', () => {
  const config = loadConfig({ FACE_INPUT_LONG_SIDE: '1600', FACE_CROP_INPUT: '192', PLATE_CROP_BELOW_PX: '12', MAX_VEHICLES: '3' });
  assert.deepEqual([config.detection.faceInputLongSide, config.detection.faceCropInput, config.detection.plateCropBelowPx, config.detection.maxVehicles], [1600, 192, 12, 3]);
  assert.equal(loadConfig({ PLATE_CROP_BELOW_PX: 'off' }).detection.plateCropBelowPx, Infinity);
  assert.throws(() => loadConfig({ FACE_INPUT_LONG_SIDE: '1000' }), (err: unknown) => err instanceof ConfigError && /multiple of 32 for FACE_INPUT_LONG_SIDE/.test(err.message));
  assert.throws(() => loadConfig({ FACE_CROP_INPUT: '0' }), (err: unknown) => err instanceof ConfigError && /FACE_CROP_INPUT/.test(err.message));
});

test('PROFILE=ultraface-tiled (formerly legacy): the models and tiles before issue 14, each variable still overriding', () => {
  const current = loadConfig({});
  assert.deepEqual([current.profile, current.faceModel, current.plateModel], ['default', 'yunet-n', 'yolov9-t-plates']);
  const tiled = loadConfig({ PROFILE: 'ultraface-tiled' });
  assert.deepEqual([tiled.profile, tiled.faceModel, tiled.plateModel, tiled.objectModel], ['ultraface-tiled', 'ultraface-rfb-320', 'hyperlpr-y5fu-320', 'yolox-nano']);
  assert.deepEqual(tiled.detection, ULTRAFACE_TILED_DETECTION_SETTINGS);
  assert.equal(loadConfig({ PROFILE: 'ultraface-tiled', PLATE_MODEL: 'yolov9-t-plates' }).plateModel, 'yolov9-t-plates');
  const legacy = loadConfig({ PROFILE: 'legacy' });
  assert.deepEqual({ ...legacy, profile: 'ultraface-tiled' }, tiled, 'legacy is the old name of ultraface-tiled');
  assert.equal(legacy.profile, 'ultraface-tiled');
  assert.throws(() => loadConfig({ PROFILE: 'fast' }), (err: unknown) => err instanceof ConfigError && /PROFILE/.test(err.message));
});

test('PROFILE=light: the cheap models, one full-frame pass each (what PROFILE=legacy TILING=off FACES_ON_PERSONS=false PLATES_ON_VEHICLES=false gave)', () => {
  const light = loadConfig({ PROFILE: 'light' });
  const spelled = loadConfig({ PROFILE: 'legacy', TILING: 'off', FACES_ON_PERSONS: 'false', PLATES_ON_VEHICLES: 'false' });
  assert.deepEqual({ ...light, profile: spelled.profile }, spelled);
  assert.deepEqual([light.faceModel, light.plateModel, light.objectModel], ['ultraface-rfb-320', 'hyperlpr-y5fu-320', 'yolox-nano']);
  assert.deepEqual([light.detection.tiling, light.detection.facesOnPersons, light.detection.platesOnVehicles], ['off', false, false]);
  assert.equal(loadConfig({ PROFILE: 'light', TILING: 'auto' }).detection.tiling, 'auto', 'each variable still overrides');
});

test('POOL_THREADS and POOL_TASKS_PER_THREAD, with WORKERS and WORKER_CONCURRENCY still honoured', () => {
  const old = loadConfig({ WORKERS: '3', WORKER_CONCURRENCY: '4' });
  assert.deepEqual([old.poolThreads, old.tasksPerThread], [3, 4]);
  const both = loadConfig({ WORKERS: '3', POOL_THREADS: '5' });
  assert.equal(both.poolThreads, 5, 'the new name wins when both are set');
  assert.throws(() => loadConfig({ WORKERS: 'many' }), ConfigError);
});

test('model manifest dir and mirror come from config, not from process.env at their use', () => {
  const config = loadConfig({ MODEL_MANIFEST_DIR: '/srv/manifests', MODEL_MIRROR: 'http://mirror.internal/models' });
  assert.equal(config.modelManifestDir, '/srv/manifests');
  assert.equal(config.modelMirror, 'http://mirror.internal/models');
  assert.equal(poolOptionsFromConfig(config).extraManifestDir, '/srv/manifests');
  assert.equal(poolOptionsFromConfig(loadConfig({})).extraManifestDir, undefined);
});

test('KEEP_METADATA: strip or safe, the old booleans still understood (false strips, true keeps the safe set)', () => {
  assert.equal(loadConfig({}).keepMetadata, 'strip');
  assert.equal(loadConfig({ KEEP_METADATA: 'safe' }).keepMetadata, 'safe');
  assert.equal(loadConfig({ KEEP_METADATA: 'false' }).keepMetadata, 'strip');
  assert.equal(loadConfig({ KEEP_METADATA: 'true' }).keepMetadata, 'safe');
  assert.throws(() => loadConfig({ KEEP_METADATA: 'all' }), /Expected one of strip, safe for KEEP_METADATA but received "all"/);
});

test('every variable is checked against its node of ConfigSchema; the defaults (and every PROFILE) fit the same schema', () => {
  for (const env of [{}, { PROFILE: 'light' }, { PROFILE: 'ultraface-tiled' }, { PROFILE: 'legacy' }]) {
    // POOL_THREADS defaults to this machine's cores, which the schema caps at 256.
    const config = { ...loadConfig(env), poolThreads: 1 };
    assert.deepEqual([...Value.Errors(ConfigSchema, config)].map((e) => `${e.path}: ${e.message}`), []);
  }
  assert.throws(() => loadConfig({ MAX_PIXELS: '0' }), (err: unknown) => err instanceof ConfigError && err.message === 'Expected an integer of at least 1 for MAX_PIXELS but received "0"');
  assert.throws(() => loadConfig({ MAX_PIXELS: '99999999999999999999' }), /Expected an integer of at least 1 for MAX_PIXELS/, 'past 2^53 it is not the integer written');
  assert.throws(() => loadConfig({ PLATE_CROP_BELOW_PX: 'Infinity' }), /Expected a number between 0 and 10000 or "off" for PLATE_CROP_BELOW_PX/);
  assert.throws(() => loadConfig({ FACE_INPUT_LONG_SIDE: '1000' }), (err: unknown) => err instanceof ConfigError && err.message === 'Expected an integer between 64 and 8192 and a multiple of 32 for FACE_INPUT_LONG_SIDE but received "1000"');
});
