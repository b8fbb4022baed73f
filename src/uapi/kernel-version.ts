/**
 * A kernel's version code, as LINUX_VERSION_CODE and libbpf's
 * LINUX_KERNEL_VERSION hold it: KERNEL_VERSION(a, b, c) of a release string
 * (`uname -r`: "6.18.44-fc-v1272"), the patch level capped at 255 as the
 * kernel's own macro caps it (include/linux/version.h).
 */
export function kernelVersionCode(release: string): number {
  const [a = 0, b = 0, c = 0] = release.split(/[.-]/).map((x) => parseInt(x, 10) || 0);
  return (a << 16) + (b << 8) + Math.min(c, 255);
}
