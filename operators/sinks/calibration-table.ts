// calibration-table: applies the `calibration` topic (each group's newest interval calibration)
// to the process's calibration table, which the predict nodes' models read on every batch.
// Declared `everyProcess` in the pipeline: on Kafka every worker reads every group's steps.
import { defineOperator } from '../../engine/index.js';
import type { CalibrationTable } from '../../models/calibration-table.js';
import { schemas } from '../../schemas/index.js';

export function calibrationTable(opts: { table: CalibrationTable }) {
  return defineOperator({
    kind: 'sink',
    name: 'calibration-table',
    input: schemas.Calibration,
    async write(records) {
      for (const r of records) opts.table.apply(r.value);
    },
  });
}
