// Progress of `pixveil process` on stderr: a redrawn bar on a terminal, a plain line every N
// images otherwise (logs, CI). Rate and ETA count processed images only.

interface Counts {
  processed: number;
  skipped: number;
  failed: number;
}

export interface Progress {
  update(counts: Counts): void;
  /** A line about one image (a failure), printed above the bar. */
  note(line: string): void;
  done(counts: Counts): void;
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}h${String(m).padStart(2, '0')}m` : m ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

export function createProgress(out: NodeJS.WriteStream, total: number, every: number): Progress {
  const started = Date.now();
  const tty = Boolean(out.isTTY);
  let lastDraw = 0;
  let lastLine = 0;
  let drawn = false;

  const text = (c: Counts) => {
    const done = c.processed + c.skipped + c.failed;
    // Files added after the count was taken: the total grows rather than the bar passing 100%.
    total = Math.max(total, done);
    const seconds = (Date.now() - started) / 1000;
    const rate = seconds > 0 ? c.processed / seconds : 0;
    const eta = rate > 0 ? (total - done) / rate : Number.POSITIVE_INFINITY;
    const stats = `${done}/${total} (processed ${c.processed}, skipped ${c.skipped}, failed ${c.failed}) ${rate.toFixed(1)} images/s ETA ${done >= total ? '0s' : duration(eta)}`;
    if (!tty) return stats;
    const width = 24;
    const filled = total ? Math.round((done / total) * width) : width;
    return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${total ? Math.floor((done / total) * 100) : 100}% ${stats}`;
  };
  const clear = () => {
    if (tty && drawn) out.write('\r\x1b[2K');
  };

  return {
    update(c) {
      const done = c.processed + c.skipped + c.failed;
      if (tty) {
        if (Date.now() - lastDraw < 100 && done < total) return;
        lastDraw = Date.now();
        clear();
        out.write(text(c));
        drawn = true;
      } else if (done - lastLine >= every) {
        lastLine = done;
        out.write(`progress ${text(c)}\n`);
      }
    },
    note(line) {
      clear();
      drawn = false;
      out.write(`${line}\n`);
    },
    done(c) {
      clear();
      out.write(`done ${text(c)}\n`);
    },
  };
}
