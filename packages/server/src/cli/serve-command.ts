import { RaftError } from '@tsraft/core';
import { pino } from 'pino';
import { CONFIG_ERROR_EXIT_CODE, ConfigError } from '../config/config-error.js';
import { resolveServeConfig } from '../config/resolve-serve-config.js';
import { startKvServer } from '../kv-server.js';
import { type Command, FAILURE_EXIT_CODE, REMOVED_EXIT_CODE } from './cli-io.js';

/**
 * `tsraft serve`: runs one node until SIGTERM or SIGINT, then closes it gracefully and exits 0; a second
 * signal exits 1 at once. A crash of the node (`stopped`) exits 1; a {@link ConfigError} exits 2, as does a
 * join the cluster refused; a node removed from the cluster shuts down gracefully and exits 3.
 */
export const serveCommand: Command = async (argv, io) => {
  const config = await resolveServeConfig(argv, io.env, io.cwd);
  // JSON lines on stderr, written synchronously so the last lines before process.exit are not lost.
  const logger = pino({ level: config.logLevel }, pino.destination({ dest: 2, sync: true }));
  let server: Awaited<ReturnType<typeof startKvServer>>;
  try {
    server = await startKvServer(config, { logger });
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    logger.fatal({ err: error }, 'the node failed to start');
    io.err(`tsraft: the node failed to start: ${(error as Error).message}\n`);
    return FAILURE_EXIT_CODE;
  }
  logger.info(
    { listen: server.address, peers: Object.fromEntries(config.peers), dataDir: config.dataDir },
    'node started',
  );

  return new Promise<number>((resolve) => {
    let closing = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (closing) {
        logger.warn({ signal }, 'second signal: exiting without finishing the shutdown');
        process.exit(FAILURE_EXIT_CODE);
      }
      closing = true;
      logger.info({ signal }, 'stopping: finishing in-flight requests');
      server.close().then(
        () => {
          logger.info('stopped');
          resolve(0);
        },
        (error: unknown) => {
          logger.error({ err: error }, 'the shutdown failed');
          resolve(FAILURE_EXIT_CODE);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    void server.stopped.then((reason) => {
      // close() may settle `stopped` too; only a stop nobody asked for is a crash.
      if (closing) return;
      closing = true;
      let code = FAILURE_EXIT_CODE;
      if (reason instanceof RaftError && reason.code === 'REMOVED') {
        logger.info('removed from the cluster: shutting down');
        code = REMOVED_EXIT_CODE;
      } else if (reason instanceof ConfigError) {
        io.err(`tsraft: ${reason.message}\n`);
        code = CONFIG_ERROR_EXIT_CODE;
      } else {
        logger.fatal({ err: reason }, 'the node stopped on its own');
      }
      server.close().then(
        () => resolve(code),
        (error: unknown) => {
          logger.error({ err: error }, 'the shutdown failed');
          resolve(code);
        },
      );
    });
  });
};
