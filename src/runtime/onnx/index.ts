export { GraphBuilder, decodeModel, f, OPSET } from './builder.ts';
export type { Attrs, AttrValue, Dim, ElemType, FloatAttr } from './builder.ts';
