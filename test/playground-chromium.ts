/**
 * The playground's browser tests drive Debian's Chromium with playwright-core
 * (never a downloaded browser). Where it is: TSBPF_CHROMIUM, else
 * /usr/bin/chromium, else chromium / chromium-browser / google-chrome on PATH.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

function executable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

export function chromiumPath(): { path: string } | { reason: string } {
  const forced = process.env['TSBPF_CHROMIUM'];
  if (forced) return executable(forced) ? { path: forced } : { reason: `TSBPF_CHROMIUM=${forced} is not an executable file` };
  const dirs = ['/usr/bin', ...(process.env['PATH'] ?? '').split(delimiter).filter(Boolean)];
  for (const name of ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable']) {
    for (const d of dirs) if (executable(join(d, name))) return { path: join(d, name) };
  }
  return { reason: 'no Chromium found (apt-get install -y chromium, or set TSBPF_CHROMIUM)' };
}

/** Chromium's switches for a quiet, offline headless run (no sandbox: CI runs as root). */
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
