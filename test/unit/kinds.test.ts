// The detection-kind registry's own rules: a kind is added only before anything read the list, under
// names no other kind has; what reads it sees every kind in one order.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defineKind, detectionKinds, kindOf, kindVariable, modelSettingKey, thresholdFlag, thresholdParam, type DetectionKindDefinition } from '../../src/kinds.js';

const screens: DetectionKindDefinition = { slot: 'screens', name: 'screen', model: { default: 'x', description: 'd' }, threshold: { default: 0.5, description: 'd' }, blurred: true };

test('a kind whose slot or name another kind has is refused, naming both', () => {
  assert.throws(() => defineKind({ ...screens, slot: 'faces' }), /Kind faces\/screen clashes with kind faces\/face/);
  assert.throws(() => defineKind({ ...screens, name: 'plate' }), /clashes with kind plates\/plate/);
  assert.throws(() => defineKind({ ...screens, slot: 'Screens' }), /Expected a lower-case word for a kind's slot and name but received "Screens"/);
});

test('the built-in kinds, in order, with the names every setting and option is made from', () => {
  assert.deepEqual(detectionKinds().map((k) => [k.slot, k.name]), [['faces', 'face'], ['plates', 'plate'], ['objects', 'object']]);
  const face = kindOf('faces')!;
  assert.equal(kindOf('face'), face);
  assert.deepEqual([modelSettingKey(face), kindVariable(face, 'MODEL'), kindVariable(face, 'TILE_SCALE'), thresholdParam(face), thresholdFlag(face)], ['faceModel', 'FACE_MODEL', 'FACE_TILE_SCALE', 'face_threshold', '--face-threshold']);
  assert.equal(kindOf('screens'), undefined, 'the refused kinds above were not added');
});

test('once the list was read, defineKind says to load the kind first', () => {
  detectionKinds();
  assert.throws(() => defineKind(screens), /defineKind\("screens"\) after the kinds were read: load the module that defines it before the service \(node --import\)/);
});
