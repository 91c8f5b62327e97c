import type { InputSpec } from '../../onnx/contract.ts';
import type { AlgorithmDefinition } from '../../store/store.ts';
import type { ModelStats } from '../../store/types.ts';

/** One parameter as the catalogue shows it (store record minus ids). */
export type ParameterDefinition = AlgorithmDefinition['parameters'][number];

/** Effective parameters after defaults and overrides, parsed. */
export type ParamValues = Record<string, string>;

/** Reports a step: overall fraction 0..1 of this job, a stage name, an optional message. */
export type ProgressFn = (fraction: number, stage: string, message?: string) => void;

export interface TrainInput {
  /** Input tensors (C x H x W, 0..1) of the OK images, as `inputSpec` says. */
  ok: Float32Array[];
  /** Input tensors of the NG images (may be empty). */
  ng: Float32Array[];
  /**
   * Tiled pictures (spec.tiling): the picture each tensor of `ok` / `ng` was cut from. Held-out
   * folds keep a picture's tiles together and a picture scores the highest of its tiles.
   * Absent: one tensor per picture.
   */
  okGroups?: number[];
  ngGroups?: number[];
  spec: InputSpec;
  params: ParamValues;
  progress: ProgressFn;
  signal: AbortSignal;
  /**
   * Pseudo-defects per held-out OK picture scored by each fold's model (details.pseudoScores):
   * how the automatic choice compares candidates without NG pictures. 0 or absent: none.
   */
  probes?: number;
}

export interface TrainOutput {
  onnx: Uint8Array;
  inputSpec: InputSpec;
  threshold: number;
  stats: ModelStats;
  /** A picture that represents the model (C x H x W, 0..1): e.g. the mean OK image. */
  representative: Float32Array;
  /** Small numbers worth keeping (held-out scores summary, memory-bank size...). */
  details: Record<string, unknown>;
  /** Set by the automatic choice: the algorithm that was kept, and why (in words). */
  chosen?: { id: string; version: string; why: string };
}

export interface Algorithm {
  definition: AlgorithmDefinition;
  /** How pictures must be prepared for this algorithm with these parameters. */
  inputSpec(params: ParamValues): InputSpec;
  train(input: TrainInput): Promise<TrainOutput>;
}
