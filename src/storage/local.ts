import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import crypto from 'node:crypto';
import { errors } from '../errors.js';
import { contentTypes, imageExtOf } from '../image-format.js';
import { isVideoExt, videoContentTypes } from '../video-format.js';
import type { ObjectStore, StoredObject } from './storage.js';

function contentTypeOf(file: string): string | undefined {
  const ext = path.extname(file).slice(1);
  if (ext === 'json') return 'application/json';
  if (isVideoExt(ext)) return videoContentTypes[ext];
  const image = imageExtOf(ext);
  return image && contentTypes[image];
}

/** Objects as files under one directory; writes go to a temp file and are renamed so readers never see half a file. */
export class LocalObjectStore implements ObjectStore {
  readonly description: string;

  constructor(private readonly root: string) {
    this.description = `local:${root}`;
  }

  private readonly madeDirs = new Set<string>();

  private async makeDir(dir: string): Promise<void> {
    await fs.mkdir(dir, { recursive: true });
    // Keys may name folders of their own: the set is a cache, not a registry.
    if (this.madeDirs.size >= 1000) this.madeDirs.clear();
    this.madeDirs.add(dir);
  }

  private pathOf(key: string): string {
    const full = path.resolve(this.root, key);
    if (!full.startsWith(path.resolve(this.root) + path.sep)) throw new Error(`Key escapes the data directory: ${key}`);
    return full;
  }

  async put(key: string, body: Buffer): Promise<void> {
    await this.writeAtomically(key, (tmp) => fs.writeFile(tmp, body));
  }

  /** A kernel copy (copy_file_range, or a reflink where the filesystem has them): no bytes pass through the process. */
  async putFile(key: string, file: string): Promise<void> {
    await this.writeAtomically(key, (tmp) => fs.copyFile(file, tmp));
  }

  private async writeAtomically(key: string, write: (tmp: string) => Promise<void>): Promise<void> {
    const full = this.pathOf(key);
    const dir = path.dirname(full);
    const tmp = `${full}.${crypto.randomBytes(6).toString('hex')}.tmp`;
    try {
      // Folders made once, not before every write (three writes an image); one removed since is made again.
      if (!this.madeDirs.has(dir)) await this.makeDir(dir);
      await write(tmp).catch(async (err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
        await this.makeDir(dir);
        await write(tmp);
      });
      await fs.rename(tmp, full);
    } catch (err) {
      await fs.rm(tmp, { force: true }).catch(() => {});
      throw errors.storage('put', key, err);
    }
  }

  async get(key: string): Promise<Buffer> {
    try {
      return await fs.readFile(this.pathOf(key));
    } catch (err) {
      throw errors.storage('get', key, err);
    }
  }

  async getStream(key: string) {
    const full = this.pathOf(key);
    let size: number;
    try {
      size = (await fs.stat(full)).size;
    } catch (err) {
      throw errors.storage('get', key, err);
    }
    return { stream: createReadStream(full), size, contentType: contentTypeOf(full) ?? 'application/octet-stream' };
  }

  async exists(key: string): Promise<boolean> {
    return fs.access(this.pathOf(key)).then(() => true, () => false);
  }

  async delete(key: string): Promise<void> {
    await fs.rm(this.pathOf(key), { force: true });
  }

  /** Keys are one folder deep (keys.ts), so a prefix names a folder and the start of file names in it. */
  async *list(prefix: string): AsyncIterable<StoredObject> {
    const slash = prefix.lastIndexOf('/');
    const folder = prefix.slice(0, slash + 1);
    const start = prefix.slice(slash + 1);
    const dir = folder ? this.pathOf(folder) : path.resolve(this.root);
    let names: string[];
    try {
      names = await fs.readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw errors.storage('list', prefix, err);
    }
    for (const name of names) {
      if (!name.startsWith(start)) continue;
      // A file deleted between readdir and stat (a DELETE, another sweep) is simply not listed.
      const stat = await fs.stat(path.join(dir, name)).catch(() => undefined);
      if (stat?.isFile()) yield { key: `${folder}${name}`, modifiedAt: stat.mtimeMs };
    }
  }

  async check(): Promise<void> {
    await fs.mkdir(this.root, { recursive: true });
    await fs.access(this.root, fs.constants.W_OK);
  }
}
