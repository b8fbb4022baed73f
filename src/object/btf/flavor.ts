/**
 * CO-RE "flavours": a local type named `task_struct___o` stands for the
 * kernel's `task_struct` (libbpf's bpf_core_essential_name_len), so one
 * program can declare the same kernel type as it was in several releases.
 */

/**
 * The name without a `___flavor` suffix: `task_struct___old` -> `task_struct`.
 * The separator is the last three underscores neither preceded nor followed
 * by another (bpf_core_is_flavor_sep).
 */
export function essentialName(name: string): string {
  for (let i = name.length - 5; i >= 0; i--) {
    if (name[i] !== '_' && name.startsWith('___', i + 1) && name[i + 4] !== '_') return name.slice(0, i + 1);
  }
  return name;
}
