/**
 * The logger the elector writes to. Its shape is pino's (`logger.info(fields, message)`),
 * so a pino logger can be passed as is; the default writes nothing.
 */
export interface Logger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};
