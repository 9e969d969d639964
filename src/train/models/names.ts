/** The networks `retina train` can build; a module of its own so the CLI's flags need no tfjs. */
export const MODEL_NAMES = ['inception-v3', 'small-cnn'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];
