/**
 * The playground in a real browser: headless Chromium (Debian's, driven by
 * playwright-core) opens the built site (dist/playground-site) served by
 * `tsbpf playground`'s own static server, and a person's path through it
 * is checked: an example is accepted, breaking it in the assembly editor
 * gives the rejection with its C line, a packet run gives the return value
 * and a map change (and a map edit changes the verdict on the next packet),
 * the debugger steps and stops at a breakpoint, the JIT tab shows the
 * WebAssembly, the shared link restores the edited program, and the page
 * fetches nothing but its own files. Screenshots of each view go to
 * dist/playground-screenshots/ for review.
 *
 * Skips with the reason when Chromium or the built site is missing
 * (.ci/suites/65-playground.sh installs the one and builds the other).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './paths.js';
import { chromiumPath, CHROMIUM_ARGS } from './playground-chromium.js';
import { SITE_DIR, serveStatic } from '../src/cli/commands/playground.js';

const SHOTS = join(ROOT, 'dist', 'playground-screenshots');

test('the playground, end to end in Chromium', { timeout: 300_000 }, async (t) => {
  const chromium = chromiumPath();
  if ('reason' in chromium) return t.skip(chromium.reason);
  if (!existsSync(join(SITE_DIR, 'index.html'))) return t.skip(`the playground is not built (${SITE_DIR}): npm run build:playground`);
  const { chromium: pw } = await import('playwright-core');
  const { server, url } = await serveStatic(SITE_DIR, 0);
  const profile = mkdtempSync(join(tmpdir(), 'tsbpf-playground-'));
  mkdirSync(SHOTS, { recursive: true });
  const ctx = await pw.launchPersistentContext(profile, { executablePath: chromium.path, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1440, height: 900 } });
  const foreign: string[] = [];
  const errors: string[] = [];
  try {
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    page.on('request', (r) => { if (!r.url().startsWith(url) && !r.url().startsWith('data:')) foreign.push(r.url()); });
    page.on('pageerror', (e) => errors.push(e.message));
    const t0 = Date.now();
    await page.goto(url);
    await page.waitForSelector('body[data-ready=true]', { timeout: 60_000 });
    const times = await page.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
      return { dom: Math.round(nav.domContentLoadedEventEnd), ready: Math.round(performance.getEntriesByName('playground-ready')[0]?.startTime ?? -1) };
    });
    t.diagnostic(`cold load: DOMContentLoaded at ${times.dom} ms, first example verified and interactive at ${times.ready} ms (${Date.now() - t0} ms with the test's own waiting; reported, not asserted)`);
    const verdict = page.locator('#verdict-text');

    await t.test('the first example is accepted, with its C source and states', async () => {
      assert.match(await verdict.innerText(), /xdp_firewall: accepted/);
      assert.ok((await page.locator('.cline').count()) > 40, 'C source lines shown');
      // A C line chosen marks its instructions in the editor.
      await page.locator('#c-43').click();
      assert.ok((await page.locator('.cm-line.cm-linked').count()) >= 1);
      // The cursor on an instruction shows the verifier's state there.
      await page.locator('.cm-line', { hasText: 'call bpf_map_lookup_elem' }).first().click();
      assert.match(await page.locator('#insn-state-title').innerText(), /State at insn 22/);
      assert.match(await page.locator('#insn-state').innerText(), /map_value_or_null/);
      // Pointing at an instruction shows the state after it.
      await page.locator('.cm-line', { hasText: 'r6 = *(u32 *)(r1 +0)' }).hover();
      const tip = page.locator('.cm-tooltip .tip');
      await tip.waitFor();
      assert.match(await tip.innerText(), /insn 2[\s\S]*R6=pkt\(r=0\)/);
      // The C source list by keyboard: the arrow keys move the chosen line and its instructions.
      await page.locator('#c-43').click();
      await page.keyboard.press('ArrowDown');
      assert.equal(await page.locator('.cline[aria-selected=true]').getAttribute('data-line'), '44');
      assert.match(await page.locator('.cm-line.cm-linked').first().innerText(), /r1 = map\[idx:0\]/);
      await page.screenshot({ path: join(SHOTS, 'accepted.png') });
    });

    await t.test('another example from the gallery', async () => {
      await page.selectOption('#example', 'packet_counter');
      await page.waitForFunction(() => /count_packets: accepted/.test(document.querySelector('#verdict-text')?.textContent ?? ''));
      await page.selectOption('#example', 'broken_null');
      await page.waitForFunction(() => /rejected/.test(document.querySelector('#verdict-text')?.textContent ?? ''));
      assert.match(await page.locator('#verdict').innerText(), /NULL/);
      await page.selectOption('#example', 'xdp_firewall');
      await page.waitForFunction(() => /xdp_firewall: accepted/.test(document.querySelector('#verdict-text')?.textContent ?? ''));
    });

    await t.test('breaking the program in the editor gives the rejection and its C line', async () => {
      // Comment out the IPv4 header's bounds check (the second `if r1 > r2`).
      await page.locator('.cm-line', { hasText: 'if r1 > r2 goto' }).nth(1).click();
      await page.keyboard.press('End');
      await page.keyboard.press('Shift+Home');
      await page.keyboard.type('; bounds check removed');
      await page.waitForFunction(() => /rejected/.test(document.querySelector('#verdict-text')?.textContent ?? ''));
      const text = await page.locator('#verdict').innerText();
      assert.match(text, /xdp_firewall: rejected \(EACCES\)/);
      assert.match(await page.locator('#reject-line').innerText(), /xdp_firewall\.c:43/);
      assert.match(text, /proto = ip->protocol/);
      assert.match(text, /Hint:/);
      assert.equal(await page.locator('.cline.reject').getAttribute('data-line'), '43');
      assert.ok((await page.locator('.cm-line.cm-reject').count()) === 1);
      await page.screenshot({ path: join(SHOTS, 'rejected.png') });
    });

    await t.test('the shared link restores the edited program', async () => {
      await page.click('#share');
      const shared = page.url();
      assert.match(shared, /#s=/);
      const p2 = await ctx.newPage();
      p2.on('request', (r) => { if (!r.url().startsWith(url)) foreign.push(r.url()); });
      await p2.goto(shared);
      await p2.waitForSelector('body[data-ready=true]');
      assert.match(await p2.locator('#verdict-text').innerText(), /xdp_firewall: rejected/);
      assert.match(await p2.locator('.cm-content').innerText(), /bounds check removed/);
      await p2.close();
    });

    await t.test('a packet run: return value, packet out, a map change; a map edit drops the next one', async () => {
      await page.goto(url);
      await page.waitForSelector('body[data-ready=true]');
      await page.click('#tab-run');
      await page.click('#run');
      assert.match(await page.locator('#retval').innerText(), /^2 \(XDP_PASS\)/);
      assert.match(await page.locator('#map-changes').innerText(), /proto_count\[11 00 00 00 = 17\]: \(none\) → 01 00 00 00 00 00 00 00 = 1/);
      assert.match(await page.locator('#run-out').innerText(), /IPv4 10\.0\.0\.1 → 10\.0\.0\.2/);
      // Loading an example is not an edit: nothing verifies it again later and clears the result
      // (the editor's 250 ms typing debounce once did), and the link carries no assembly.
      await page.waitForTimeout(600);
      assert.match(await page.locator('#retval').innerText(), /^2 \(XDP_PASS\)/);
      await page.fill('#newkey-blocklist', '0a 00 00 01');
      await page.fill('#newval-blocklist', '01');
      await page.locator('[data-map=blocklist] form.add button').click();
      await page.click('#run');
      assert.match(await page.locator('#retval').innerText(), /^1 \(XDP_DROP\)/);
      // The raw-hex input: a frame too short for Ethernet is refused with the kernel's reason.
      await page.locator('input[name=input-mode][value=hex]').check();
      await page.fill('#hex-input', '01 02 03');
      await page.click('#run');
      assert.match(await page.locator('#run-out').innerText(), /shorter than an Ethernet header/);
      await page.locator('input[name=input-mode][value=builder]').check();
      await page.fill('#repeat', '2000');
      await page.click('#time');
      assert.match(await page.locator('#run-out').innerText(), /2000 runs, \d+ ns per run/);
      await page.screenshot({ path: join(SHOTS, 'run.png'), fullPage: true });
    });

    await t.test('the debugger steps, stops at a breakpoint and runs to the exit', async () => {
      await page.click('#tab-debug');
      await page.click('#dbg-start');
      assert.match(await page.locator('#dbg-status').innerText(), /started at insn 0/);
      await page.click('#dbg-step');
      assert.match(await page.locator('#dbg-status').innerText(), /step at insn 1\b.*xdp_firewall\.c:29/);
      assert.equal(await page.locator('.cline.pc').getAttribute('data-line'), '29');
      assert.equal(await page.locator('.cm-line.cm-pc').count(), 1);
      await page.locator('.cm-line', { hasText: 'call bpf_map_lookup_elem' }).first().click();
      await page.click('#dbg-bp');
      await page.click('#dbg-continue');
      assert.match(await page.locator('#dbg-status').innerText(), /breakpoint at insn 22/);
      assert.match(await page.locator('#dbg-state').innerText(), /r1/);
      await page.screenshot({ path: join(SHOTS, 'debugger.png') });
      // Run to a C line: choosing it puts the cursor on its first instruction.
      await page.locator('#c-48').click();
      await page.click('#dbg-cursor');
      assert.match(await page.locator('#dbg-status').innerText(), /breakpoint at insn 26, .*xdp_firewall\.c:48/);
      assert.equal(await page.locator('.cline.pc').getAttribute('data-line'), '48');
      await page.click('#dbg-continue');
      assert.match(await page.locator('#dbg-status').innerText(), /exited: r0 = 1 \(XDP_DROP\)/);
    });

    await t.test('the JIT tab shows the WebAssembly module', async () => {
      await page.click('#tab-jit');
      assert.match(await page.locator('#wat').innerText(), /\(module/);
      assert.match(await page.locator('#jit-timing').innerText(), /xdp_firewall: \d+ ns per run, mean of 2000 runs/);
      await page.screenshot({ path: join(SHOTS, 'jit.png') });
    });

    await t.test('an uploaded object, and a program typed from scratch', async () => {
      await page.setInputFiles('#upload', join(ROOT, 'fixtures', 'bpf2bpf.o'));
      await page.waitForFunction(() => /bpf2bpf\.o/.test(document.querySelector('#lesson')?.textContent ?? ''));
      await page.waitForFunction(() => /accepted/.test(document.querySelector('#verdict-text')?.textContent ?? ''));
      assert.ok((await page.locator('.cline.has-code').count()) > 3, 'C lines from BTF line_info');
      await page.click('#scratch');
      await page.waitForFunction(() => /prog: accepted/.test(document.querySelector('#verdict-text')?.textContent ?? ''));
      // Typing a read through an unchecked register: rejected as soon as it is typed.
      await page.locator('.cm-line', { hasText: 'r0 = 2' }).click();
      await page.keyboard.press('End');
      await page.keyboard.press('Enter');
      await page.keyboard.type('r0 = *(u64 *)(r2 +0)');
      await page.waitForFunction(() => /prog: rejected/.test(document.querySelector('#verdict-text')?.textContent ?? ''));
      assert.match(await page.locator('#verdict').innerText(), /R2 !read_ok/);
      await page.keyboard.type(' +');
      await page.waitForFunction(() => /does not assemble/.test(document.querySelector('#asm-error')?.textContent ?? ''));
      assert.match(await page.locator('#asm-error').innerText(), /does not assemble: line 3/);
      assert.match(await page.locator('#verdict-text').innerText(), /does not assemble/);
    });

    await t.test('keyboard and narrow screens', async () => {
      await page.focus('#tab-jit');
      await page.keyboard.press('ArrowLeft');
      assert.equal(await page.locator('#tab-debug').getAttribute('aria-selected'), 'true');
      await page.setViewportSize({ width: 390, height: 844 });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 1, `no sideways scrolling at 390 px (overflow ${overflow} px)`);
      await page.screenshot({ path: join(SHOTS, 'narrow.png'), fullPage: false });
    });

    assert.deepEqual(foreign, [], 'no request leaves the page’s own origin');
    assert.deepEqual(errors, [], 'no uncaught errors on the page');
  } finally {
    await ctx.close();
    server.close();
    rmSync(profile, { recursive: true, force: true });
  }
});
