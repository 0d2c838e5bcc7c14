// One line that redraws itself on a terminal; on a pipe or a log file (CI, a test) a line every
// tenth of the way, so the output stays readable where `\r` is not.

export interface ProgressBar {
  update(done: number, note: string): void;
  finish(note: string): void;
}

export function progressBar(total: number, out: NodeJS.WriteStream | NodeJS.WritableStream = process.stderr, width = 30): ProgressBar {
  const tty = 'isTTY' in out && out.isTTY === true;
  let lastTenth = -1;
  const line = (done: number, note: string) => {
    const share = total === 0 ? 1 : Math.min(1, done / total);
    const filled = Math.round(share * width);
    return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.round(share * 100)).padStart(3)}% ${note}`;
  };
  return {
    update(done, note) {
      if (tty) {
        out.write(`\r${line(done, note)}\x1b[K`);
        return;
      }
      const tenth = Math.floor((10 * done) / Math.max(1, total));
      if (tenth > lastTenth) {
        lastTenth = tenth;
        out.write(`${line(done, note)}\n`);
      }
    },
    finish(note) {
      out.write(`${tty ? '\r' : ''}${line(total, note)}${tty ? '\x1b[K' : ''}\n`);
    },
  };
}
