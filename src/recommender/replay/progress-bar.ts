/**
 * A progress bar for long replays on stderr: redrawn in place on a terminal, a line every few
 * seconds otherwise (logs), never more often than `intervalMs`.
 */
export function progressBar(
  label: string,
  write: (text: string) => void = (t) => process.stderr.write(t),
  tty = process.stderr.isTTY === true,
) {
  const started = performance.now();
  let last = 0;
  return {
    update(done: number, total: number, force = false): void {
      const now = performance.now();
      if (!force && now - last < (tty ? 200 : 5000)) return;
      last = now;
      const fraction = total ? done / total : 1;
      const width = 30;
      const filled = Math.round(fraction * width);
      const rate = done / Math.max(1e-3, (now - started) / 1000);
      const text =
        `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ` +
        `${done.toLocaleString('en')}/${total.toLocaleString('en')} events, ${Math.round(rate).toLocaleString('en')}/s`;
      write(tty ? `\r${text}` : `${text}\n`);
    },
    done(): void {
      if (tty) write('\n');
    },
  };
}
