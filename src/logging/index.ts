/** Production logs: four rotating files, redaction, retention, reading back. */
export {
  fileStamp,
  isLogStream,
  LOG_STREAMS,
  type LogStream,
  listRotated,
  liveFileName,
  parseRotatedName,
  type RotatedFile,
} from './files.js';
export { escapeControl, formatLogLine, levelName } from './format.js';
export type { LogStatus } from './health.js';
export {
  createProductionLogger,
  createSilentLogger,
  escapeUnsafe,
  type LogsConfig,
  type ProductionLogger,
  type ProductionLoggerOptions,
} from './logger.js';
export { attachLogPort, createPortLogger, type LogPortSource, type LogPortTarget } from './port.js';
export {
  errorLinesAround,
  followLogs,
  type LivePosition,
  type LogLine,
  liveFilePosition,
  type TailOptions,
  tailLogs,
} from './query.js';
export { createRedactor, luhnValid, MASK, REDACTED, type Redactor } from './redact.js';
export { applyLogRetention, type LogRetentionOptions, type LogRetentionResult } from './retention.js';
export { logRequestTiming, type RequestTiming, sampled, type TimingOptions } from './timing.js';
