// The record schemas of tickcast's topics: the generated type, the Avro schema and its rules.
import {
  type Bar,
  barAvsc,
  type Calibration,
  calibrationAvsc,
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
  type Score,
  type SmaSignal,
  scoreAvsc,
  smaSignalAvsc,
} from './generated.js';
import {
  validateBar,
  validateCalibration,
  validateDeadLetter,
  validateDocument,
  validateEarnings,
  validateFactSheet,
  validateFeatures,
  validateNews,
  validatePrediction,
  validateQuote,
  validateScore,
  validateSmaSignal,
} from './rules.js';
import { defineSchema } from './schema.js';

export { type FieldKind, KEY_KINDS, type RecordField, recordFields } from './fields.js';
export type {
  Bar,
  Calibration,
  DeadLetter,
  Document,
  Earnings,
  Fact,
  FactSheet,
  Features,
  News,
  Prediction,
  Quote,
  Score,
  SmaSignal,
} from './generated.js';
export { avroOptions, typedArraysAsArrays } from './logical-types.js';
export { SYMBOL_PATTERN } from './rules.js';
export { defineSchema, describeTypeErrors, type RecordSchema, type Schema, type SchemaType } from './schema.js';

export const schemas = {
  Quote: defineSchema<Quote>(quoteAvsc, validateQuote),
  Bar: defineSchema<Bar>(barAvsc, validateBar),
  Features: defineSchema<Features>(featuresAvsc, validateFeatures),
  Prediction: defineSchema<Prediction>(predictionAvsc, validatePrediction),
  News: defineSchema<News>(newsAvsc, validateNews),
  FactSheet: defineSchema<FactSheet>(factSheetAvsc, validateFactSheet),
  Document: defineSchema<Document>(documentAvsc, validateDocument),
  Earnings: defineSchema<Earnings>(earningsAvsc, validateEarnings),
  Score: defineSchema<Score>(scoreAvsc, validateScore),
  Calibration: defineSchema<Calibration>(calibrationAvsc, validateCalibration),
  SmaSignal: defineSchema<SmaSignal>(smaSignalAvsc, validateSmaSignal),
  DeadLetter: defineSchema<DeadLetter>(deadLetterAvsc, validateDeadLetter),
} as const;
