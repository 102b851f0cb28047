/**
 * When RabbitMQ refuses sse-hub's exchange: it exists with other settings
 * (cyclone-sse declares a non-durable one). The error names the setting and
 * the option that matches it.
 *
 * @module
 */

/**
 * RabbitMQ refused to declare the exchange (406 PRECONDITION_FAILED): it
 * exists with other settings. The message names the setting and the option
 * that matches it, e.g. `RabbitMQ refused exchange "sse-cyclone-server": it
 * exists with durable=false; start with --amqp-exchange-durable false`.
 */
export class ExchangeMismatchError extends Error {
  constructor(exchange: string, serverMessage: string) {
    super(describeMismatch(exchange, serverMessage));
    this.name = "ExchangeMismatchError";
  }
}

/** The options that set each exchange argument RabbitMQ compares. */
const MISMATCH_OPTIONS: Readonly<Record<string, string>> = {
  durable: "--amqp-exchange-durable",
  type: "--amqp-exchange-type",
};

/**
 * RabbitMQ's `inequivalent arg 'durable' for exchange 'x' in vhost '/':
 * received 'true' but current is 'false'` → what to change.
 */
export function describeMismatch(exchange: string, serverMessage: string): string {
  const refused = `RabbitMQ refused exchange ${JSON.stringify(exchange)}`;
  const match = /inequivalent arg '([^']+)'.*current is '([^']*)'/.exec(serverMessage);
  const option = match ? MISMATCH_OPTIONS[match[1]] : undefined;
  if (match && option) {
    return `${refused}: it exists with ${match[1]}=${match[2]}; start with ${option} ${match[2]}`;
  }
  return `${refused}: it exists with other settings (${serverMessage}); ` +
    "delete it in RabbitMQ or use another --amqp-exchange";
}
