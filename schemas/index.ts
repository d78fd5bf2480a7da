// The record schemas of tickcast's topics: the generated type, the Avro schema and its rules.
import {
  type Bar,
  barAvsc,
  type DeadLetter,
  deadLetterAvsc,
  type Features,
  featuresAvsc,
  type News,
  newsAvsc,
  type Prediction,
  predictionAvsc,
  type Quote,
  quoteAvsc,
} from './generated.js';
import {
  validateBar,
  validateDeadLetter,
  validateFeatures,
  validateNews,
  validatePrediction,
  validateQuote,
} from './rules.js';
import { defineSchema } from './schema.js';

export type { Bar, DeadLetter, Features, News, Prediction, Quote } from './generated.js';
export { SYMBOL_PATTERN } from './rules.js';
export { defineSchema, describeTypeErrors, type Schema, type SchemaType } from './schema.js';

export const schemas = {
  Quote: defineSchema<Quote>(quoteAvsc, validateQuote),
  Bar: defineSchema<Bar>(barAvsc, validateBar),
  Features: defineSchema<Features>(featuresAvsc, validateFeatures),
  Prediction: defineSchema<Prediction>(predictionAvsc, validatePrediction),
  News: defineSchema<News>(newsAvsc, validateNews),
  DeadLetter: defineSchema<DeadLetter>(deadLetterAvsc, validateDeadLetter),
} as const;
