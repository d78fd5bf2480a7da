// A calibration table as the `calibrate` operator would leave it after a step of the 5-day
// normal-days group: for tests of what predict and facts issue under a live calibration.
import { type CalibrationTable, createCalibrationTable } from '../../models/calibration-table.js';

/** A table whose 5-day normal group issues intervals `scale`× wide (the other groups: 1×). */
export function tableScalingH5(scale: number): CalibrationTable {
  const table = createCalibrationTable();
  table.apply({
    group: '5:normal',
    horizon: 5,
    regime: 'normal',
    ts: 1,
    logScale: Math.log(scale),
    steps: 10,
    n: 50,
    coverage: 0.6,
    recentCoverage: 0.62,
  });
  return table;
}
