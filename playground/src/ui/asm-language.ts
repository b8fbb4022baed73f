/**
 * Highlighting for the kernel's BPF assembly syntax (what the verifier log
 * and the assembler use): `;` comments (the C source lines), labels,
 * registers, numbers, and the words of jumps, calls and atomics.
 */
import { StreamLanguage, type StringStream } from '@codemirror/language';

export const bpfAsm = StreamLanguage.define<null>({
  name: 'bpf-asm',
  token(stream: StringStream): string | null {
    if (stream.eatSpace()) return null;
    if (stream.match(/^(;|\/\/|#(?=\s|$)).*/)) return 'comment';
    if (stream.sol() && stream.match(/^[A-Za-z_.$][\w.$]*:/)) return 'labelName';
    if (stream.match(/^[rw](10|[0-9])\b/)) return 'variableName';
    if (stream.match(/^-?(0x[0-9a-fA-F]+|\d+)\b/)) return 'number';
    if (stream.match(/^(if|goto|gotol|call|callx|exit|lock|ll|may_goto|be16|be32|be64|le16|le32|le64|bswap16|bswap32|bswap64)\b/)) return 'keyword';
    if (stream.match(/^(u8|u16|u32|u64|s8|s16|s32)\b/)) return 'typeName';
    if (stream.match(/^(map|func|btf_id)\b/)) return 'atom';
    if (stream.match(/^[A-Za-z_]\w*(#\d+)?/)) return 'name';
    stream.next();
    return 'operator';
  },
  languageData: { commentTokens: { line: ';' } },
});
