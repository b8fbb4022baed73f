/** Fixture bytes over HTTP, from the test's static server (page.ts and worker.ts). */
export async function fetchFixture(name: string): Promise<Uint8Array> {
  const res = await fetch(`/fixtures/${name}`);
  if (!res.ok) throw new Error(`GET /fixtures/${name}: ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** What a page reports for one run of the scenario (JSON, through the DOM). */
export interface RunReport {
  ok: boolean;
  error?: string;
  stack?: string;
  result?: unknown;
}

export function failure(e: unknown): RunReport {
  const err = e as Error;
  return { ok: false, error: `${err?.name}: ${err?.message}`, stack: String(err?.stack ?? '') };
}
