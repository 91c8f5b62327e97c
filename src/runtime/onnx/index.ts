export { GraphBuilder, decodeModel, f, OPSET } from './builder.ts';
export type { Attrs, AttrValue, Dim, ElemType, FloatAttr } from './builder.ts';
export { affine, blur, gaussian1d, mapAndScore, pad2d } from './ops.ts';
