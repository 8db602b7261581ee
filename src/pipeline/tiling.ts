import type { PixelRegion } from '../models/input.js';

/** Evenly spread starts of `n` windows of `tile` over `size`, the last one ending at the edge. */
function starts(size: number, tile: number, n: number): number[] {
  if (n <= 1 || tile >= size) return [0];
  return Array.from({ length: n }, (_, i) => Math.round((i * (size - tile)) / (n - 1)));
}

/** Window length that covers `size` with `n` windows overlapping by `overlap` of a window. */
const spanFor = (size: number, n: number, overlap: number) => size / (n - (n - 1) * overlap);

/**
 * Tiles for a second, finer pass of a detector whose input is modelWidth × modelHeight. Each tile
 * has the model's aspect ratio and is at most maxScale× the model input, so an object is shrunk by
 * at most maxScale instead of by image/model. Neighbours overlap by at least `overlap` of a tile, so
 * any object up to that size lies whole in some tile. The grid is the one with the fewest tiles that
 * meets maxScale, and its tiles are then made as small as that grid allows (a 1080p image at
 * maxScale 3 for a 320×240 model: 6 tiles at 2.57×, not 6 at 3×). Empty when the full-image pass is
 * already fine enough.
 */
export function planTiles(imageWidth: number, imageHeight: number, modelWidth: number, modelHeight: number, maxScale: number, overlap = 0.25): PixelRegion[] {
  const fullScale = Math.max(imageWidth / modelWidth, imageHeight / modelHeight);
  if (fullScale <= maxScale * 1.05) return [];
  // Fewest windows along one side so that each is at most `limit` long.
  const count = (size: number, limit: number) => (limit >= size ? 1 : Math.ceil((size / limit - overlap) / (1 - overlap) - 1e-9));
  let best: { cols: number; rows: number; scale: number } | null = null;
  const maxCols = count(imageWidth, modelWidth * maxScale);
  const maxRows = count(imageHeight, modelHeight * maxScale);
  for (let cols = 1; cols <= maxCols; cols++) {
    for (let rows = 1; rows <= maxRows; rows++) {
      const scale = Math.max(cols === 1 ? imageWidth / modelWidth : spanFor(imageWidth, cols, overlap) / modelWidth, rows === 1 ? imageHeight / modelHeight : spanFor(imageHeight, rows, overlap) / modelHeight);
      if (scale > maxScale * 1.001) continue;
      if (!best || cols * rows < best.cols * best.rows || (cols * rows === best.cols * best.rows && scale < best.scale)) best = { cols, rows, scale };
    }
  }
  if (!best) return [];
  const tileW = Math.min(imageWidth, Math.round(modelWidth * best.scale));
  const tileH = Math.min(imageHeight, Math.round(modelHeight * best.scale));
  const tiles: PixelRegion[] = [];
  for (const y of starts(imageHeight, tileH, best.rows)) {
    for (const x of starts(imageWidth, tileW, best.cols)) tiles.push({ x, y, width: tileW, height: tileH });
  }
  return tiles;
}
