import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { darknetDir, facesDir, platesDir } from '../harness/fixtures.js';

export interface CorpusSet {
  name: string;
  width: number;
  height: number;
  images: Buffer[];
  /** The source file of each image. */
  names?: string[];
}

/** Real photos (faces, plates, street) scaled and cropped to a fixed size, JPEG q85, as users send them. */
export async function buildCorpus(width: number, height: number, name: string): Promise<CorpusSet> {
  const sources = [
    ...fs.readdirSync(facesDir).map((f) => path.join(facesDir, f)),
    ...fs.readdirSync(platesDir).filter((f) => f.startsWith('alpr_')).map((f) => path.join(platesDir, f)),
    path.join(darknetDir, 'dog.jpg'),
    path.join(darknetDir, 'person.jpg'),
  ];
  const images = await Promise.all(sources.map((file) => sharp(file).rotate().resize(width, height, { fit: 'cover' }).jpeg({ quality: 85 }).toBuffer()));
  return { name, width, height, images, names: sources.map((file) => path.basename(file)) };
}
