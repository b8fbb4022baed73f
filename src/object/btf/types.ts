/**
 * BTF types as a discriminated union on `kind`, one variant per BTF_KIND_*
 * of include/uapi/linux/btf.h. Type ids index `Btf.types`; id 0 is `void`.
 */

/** BTF_KIND_* numbers as the kernel encodes them in `info` bits 24..28. */
export const BTF_KIND = {
  unkn: 0,
  int: 1,
  ptr: 2,
  array: 3,
  struct: 4,
  union: 5,
  enum: 6,
  fwd: 7,
  typedef: 8,
  volatile: 9,
  const: 10,
  restrict: 11,
  func: 12,
  func_proto: 13,
  var: 14,
  datasec: 15,
  float: 16,
  decl_tag: 17,
  type_tag: 18,
  enum64: 19,
} as const;
export type BtfKindName = Exclude<keyof typeof BTF_KIND, 'unkn'> | 'void';

/** The upper-case names bpftool prints (`btf_kind_str[]`). */
export const KIND_UPPER: Record<BtfKindName, string> = {
  void: 'UNKNOWN',
  int: 'INT',
  ptr: 'PTR',
  array: 'ARRAY',
  struct: 'STRUCT',
  union: 'UNION',
  enum: 'ENUM',
  fwd: 'FWD',
  typedef: 'TYPEDEF',
  volatile: 'VOLATILE',
  const: 'CONST',
  restrict: 'RESTRICT',
  func: 'FUNC',
  func_proto: 'FUNC_PROTO',
  var: 'VAR',
  datasec: 'DATASEC',
  float: 'FLOAT',
  decl_tag: 'DECL_TAG',
  type_tag: 'TYPE_TAG',
  enum64: 'ENUM64',
};

/** BTF_FUNC_* linkage (func) and BTF_VAR_* linkage (var). */
export type FuncLinkage = 'static' | 'global' | 'extern';
export type VarLinkage = 'static' | 'global' | 'extern';

interface Base {
  id: number;
  /** '' for anonymous types */
  name: string;
}

export interface VoidType extends Base {
  kind: 'void';
}
export interface IntType extends Base {
  kind: 'int';
  size: number;
  /** BTF_INT_SIGNED / BTF_INT_CHAR / BTF_INT_BOOL bits */
  encoding: { signed: boolean; char: boolean; bool: boolean };
  /** BTF_INT_BITS: the number of value bits */
  bits: number;
  /** BTF_INT_OFFSET: the bit offset of the value inside its storage */
  offset: number;
}
export interface PtrType extends Base {
  kind: 'ptr';
  typeId: number;
}
export interface ArrayType extends Base {
  kind: 'array';
  elemTypeId: number;
  indexTypeId: number;
  nelems: number;
}
export interface Member {
  name: string;
  typeId: number;
  /** bit offset from the start of the struct */
  bitOffset: number;
  /** 0 when the member is not a bitfield */
  bitfieldSize: number;
}
export interface StructType extends Base {
  kind: 'struct' | 'union';
  size: number;
  members: Member[];
  /** the kind_flag bit: member offsets carry bitfield sizes */
  kindFlag: boolean;
}
export interface EnumValue {
  name: string;
  value: number;
}
export interface EnumType extends Base {
  kind: 'enum';
  size: number;
  /** kind_flag: values are signed */
  signed: boolean;
  values: EnumValue[];
}
export interface Enum64Value {
  name: string;
  value: bigint;
}
export interface Enum64Type extends Base {
  kind: 'enum64';
  size: number;
  signed: boolean;
  values: Enum64Value[];
}
export interface FwdType extends Base {
  kind: 'fwd';
  /** kind_flag: a forward declaration of a union rather than a struct */
  union: boolean;
}
export interface RefType extends Base {
  kind: 'typedef' | 'volatile' | 'const' | 'restrict' | 'type_tag';
  typeId: number;
}
export interface FuncType extends Base {
  kind: 'func';
  /** the func_proto */
  typeId: number;
  linkage: FuncLinkage;
}
export interface FuncParam {
  name: string;
  /** 0 (void) for the trailing `...` of a variadic prototype */
  typeId: number;
}
export interface FuncProtoType extends Base {
  kind: 'func_proto';
  returnTypeId: number;
  params: FuncParam[];
}
export interface VarType extends Base {
  kind: 'var';
  typeId: number;
  linkage: VarLinkage;
}
export interface DatasecVar {
  /** the var (or func, for .ksyms) */
  typeId: number;
  offset: number;
  size: number;
}
export interface DatasecType extends Base {
  kind: 'datasec';
  size: number;
  vars: DatasecVar[];
}
export interface FloatType extends Base {
  kind: 'float';
  size: number;
}
export interface DeclTagType extends Base {
  kind: 'decl_tag';
  typeId: number;
  /** -1 for the type (or func/var) itself, else the member / parameter index */
  componentIdx: number;
}

export type BtfType =
  | VoidType
  | IntType
  | PtrType
  | ArrayType
  | StructType
  | EnumType
  | Enum64Type
  | FwdType
  | RefType
  | FuncType
  | FuncProtoType
  | VarType
  | DatasecType
  | FloatType
  | DeclTagType;

export type BtfKind = BtfType['kind'];

/** Kinds that only qualify or rename another type: `resolve` looks through them. */
export const MODIFIER_KINDS: ReadonlySet<BtfKind> = new Set(['typedef', 'volatile', 'const', 'restrict', 'type_tag']);

/** The variant of BtfType for kind K (`BtfTypeOf<'struct'>` is StructType). */
export type BtfTypeOf<K extends BtfKind> = BtfType extends infer T ? (T extends { kind: infer U } ? (K extends U ? T : never) : never) : never;
