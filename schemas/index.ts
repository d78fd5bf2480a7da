// The record schemas of tickcast's topics: the generated type, the Avro schema and its rules.
import {
  type Bar,
  barAvsc,
  type DeadLetter,
  type Document,
  deadLetterAvsc,
  documentAvsc,
  type Earnings,
  earningsAvsc,
  type FactSheet,
  type Features,
  factSheetAvsc,
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
  validateDocument,
  validateEarnings,
  validateFactSheet,
  validateFeatures,
  validateNews,
  validatePrediction,
  validateQuote,
} from './rules.js';
import { defineSchema } from './schema.js';

export type {
  Bar,
  DeadLetter,
  Document,
  Earnings,
  Fact,
  FactSheet,
  Features,
  News,
  Prediction,
  Quote,
} from './generated.js';
export { SYMBOL_PATTERN } from './rules.js';
export { defineSchema, describeTypeErrors, type Schema, type SchemaType } from './schema.js';

export const schemas = {
  Quote: defineSchema<Quote>(quoteAvsc, validateQuote),
  Bar: defineSchema<Bar>(barAvsc, validateBar),
  Features: defineSchema<Features>(featuresAvsc, validateFeatures),
  Prediction: defineSchema<Prediction>(predictionAvsc, validatePrediction),
  News: defineSchema<News>(newsAvsc, validateNews),
  FactSheet: defineSchema<FactSheet>(factSheetAvsc, validateFactSheet),
  Document: defineSchema<Document>(documentAvsc, validateDocument),
  Earnings: defineSchema<Earnings>(earningsAvsc, validateEarnings),
  DeadLetter: defineSchema<DeadLetter>(deadLetterAvsc, validateDeadLetter),
} as const;
