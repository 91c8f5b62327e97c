/**
 * The ONNX input/output contract every model here follows, trained here or imported.
 *
 * input  `images`        float32 [N, C, H, W], pixel values in 0..1 after the model's
 *                        preprocessing (resize to H x W; C = 1 grayscale or 3 RGB).
 * output `anomaly_map`   float32 [N, 1, h, w], higher = more anomalous; h x w may be smaller
 *                        than H x W (it is scaled back to the original image for boxes).
 * output `score`         float32 [N], the image's anomaly score (judged against the threshold).
 */
export const OnnxIO = {
  input: 'images',
  anomalyMap: 'anomaly_map',
  score: 'score',
} as const;

export const ColorMode = { GRAY: 'gray', RGB: 'rgb' } as const;
export type ColorMode = (typeof ColorMode)[keyof typeof ColorMode];

/**
 * Inference on tiles of a large picture (optional; absent = the whole picture is stretched to
 * width x height). The picture is first resized, aspect kept, so its long side is `longSide`
 * pixels (never upscaled; a side that would end up shorter than the input is stretched to it), then
 * cut into width x height tiles overlapping by at least `overlap` pixels (tiles spread evenly,
 * the last flush with the edge). All tiles run through the model in batches; their anomaly maps
 * are stitched into one map over the whole picture (overlapping cells combined by `merge`,
 * default "max"), and the picture's score is the highest tile score. Boxes and the heatmap are
 * in the original picture's pixels, as without tiling.
 */
export interface TilingSpec {
  longSide: number;
  overlap: number;
  merge?: 'max' | 'mean';
}

/** How raw pictures become the model's input tensor. Stored in the model and the manifest. */
export interface InputSpec {
  width: number;
  height: number;
  color: ColorMode;
  /** "fill" stretches the picture to width x height (aligned parts), no letterboxing. */
  resize: 'fill';
  /** Colour scale of the heatmap: map values at or below lo are blue, at or above hi red. */
  anomalyRange: [number, number];
  /** Tiled inference of large pictures (see TilingSpec); absent: whole-picture resize. */
  tiling?: TilingSpec;
  /** The shapes of the pictures the model learnt from (see PictureShapes); absent: not known. */
  pictures?: PictureShapes;
}

/**
 * The range of the training pictures' shapes: width / height, and the shorter side in pixels.
 * A picture far outside it (a 20000x20 strip, an 8x8 thumbnail, for a model of 640x480 frames)
 * would be stretched into the input beyond recognition and judged all the same, most likely
 * GOOD: it is refused instead, saying why (images/picture-shape.ts).
 */
export interface PictureShapes {
  aspect: [number, number];
  shortSide: [number, number];
}

export const ARCHIVE_FORMAT_VERSION = 1;

/** manifest.json of one model in an export archive. */
export interface ModelManifest {
  formatVersion: typeof ARCHIVE_FORMAT_VERSION;
  name: string;
  version: string;
  algorithm: { name: string; version: string; parameters: Record<string, string> };
  input: InputSpec;
  predictParameters: { threshold: number; ignoreOuter: number; minDetectedArea: number };
  stats: unknown;
  okImageCount: number;
  ngImageCount: number;
  trainingTime: number | null;
  createdAt: string;
  /**
   * The regions of interest the model judges with (docs/regions.md), when it had its own or its
   * target had some; absent: the importing target's apply. Optional within format version 1:
   * older archives have none, and older servers ignore it.
   */
  regions?: ManifestRegion[];
  /** sha256 hex of every other file in the model's folder, by file name. */
  checksums: Record<string, string>;
}

/** A region of interest as an archive carries it (the store's `Region`; checked on import). */
export interface ManifestRegion {
  mode: 'INCLUDE' | 'EXCLUDE';
  points: [number, number][];
  sensitivity: number;
  label: string | null;
}
