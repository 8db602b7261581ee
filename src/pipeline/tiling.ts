import type { PixelRegion } from './preprocess.js';

/**
 * Tiles for a second, finer pass of a detector whose input is modelWidth × modelHeight. Each tile
 * has the model's aspect ratio and is at most maxScale× the model input, so an object is shrunk by
 * at most maxScale instead of by image/model. Neighbours overlap by `overlap` of a tile, so any
 * object up to that size lies whole in some tile. Empty when the full-image pass is already fine enough.
 */
export function planTiles(imageWidth: number, imageHeight: number, modelWidth: number, modelHeight: number, maxScale: number, overlap = 0.25): PixelRegion[] {
  const fullScale = Math.max(imageWidth / modelWidth, imageHeight / modelHeight);
  if (fullScale <= maxScale * 1.05) return [];
  const tileW = Math.min(imageWidth, Math.round(modelWidth * maxScale));
  const tileH = Math.min(imageHeight, Math.round(modelHeight * maxScale));
  const starts = (size: number, tile: number) => {
    if (tile >= size) return [0];
    const step = tile * (1 - overlap);
    const n = Math.ceil((size - tile) / step) + 1;
    // Spread the tiles evenly so the last one ends at the image edge.
    return Array.from({ length: n }, (_, i) => Math.round((i * (size - tile)) / (n - 1)));
  };
  const tiles: PixelRegion[] = [];
  for (const y of starts(imageHeight, tileH)) {
    for (const x of starts(imageWidth, tileW)) tiles.push({ x, y, width: tileW, height: tileH });
  }
  return tiles;
}
