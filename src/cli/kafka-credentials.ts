import { RdKafka } from '@confluentinc/kafka-javascript';
import { ConfigError } from '../errors.js';
import { adminConfig, createClient } from '../topology/transport/kafka-client-config.js';
import { type LibrdkafkaProperties, redactSecrets, resolveKafkaOptions } from '../topology/transport/kafka-options.js';

/**
 * How the binding reports a broker that refused the credentials or the TLS handshake: an error
 * event with code -1 and one of these messages (librdkafka's ERR__AUTHENTICATION, ERR__SSL), or
 * the codes themselves where an API call carries them.
 */
const REFUSED_MESSAGE = /^(authentication failure|ssl error)$/i;
const REFUSED_CODES: ReadonlySet<number> = new Set([-169, -181, 33, 58]);
/** librdkafka's log line that says why: "SASL authentication error: …", "SSL handshake failed: …". */
const REFUSAL_LOG = /(SASL [^:]*(error|failed)|SSL handshake failed)/;

/** How long the check waits for the broker's first answer; past it the runner reports the broker as it would. */
const CHECK_TIMEOUT_MS = 5000;

/** Whether the settings ask for authentication or TLS (security.protocol other than plaintext). */
export function isSecured(librdkafka: LibrdkafkaProperties): boolean {
  const protocol = String(librdkafka['security.protocol'] ?? 'plaintext').toLowerCase();
  return protocol !== 'plaintext';
}

/**
 * Connects once with the settings every client will use and fails with a ConfigError naming
 * the cause when the broker refuses the credentials or the TLS handshake. librdkafka treats
 * such a refusal like an unreachable broker and retries it, so without this check a wrong
 * password shows up ten seconds later as "did not answer: Local: Timed out". A broker that does
 * not answer at all is left to the runner, which reports it (or waits it out) as usual.
 */
export async function checkKafkaCredentials(
  brokers: string,
  librdkafka: LibrdkafkaProperties,
  timeoutMs = CHECK_TIMEOUT_MS,
): Promise<void> {
  if (!isSecured(librdkafka)) return;
  const options = resolveKafkaOptions({ brokers, librdkafka, clientId: 'agentrec-credentials-check' });
  let admin: RdKafka.IAdminClient | undefined;
  try {
    const refusal = await new Promise<string | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), timeoutMs);
      let reason: string | undefined;
      const settle = (why: string | undefined) => {
        clearTimeout(timer);
        resolve(why);
      };
      admin = createClient(options, () =>
        RdKafka.AdminClient.create(adminConfig(options), {
          // The error event says only "authentication failure"; the log line before it says why.
          'event.log': (log: { message: string }) => {
            const at = log.message.search(REFUSAL_LOG);
            if (at >= 0) reason = log.message.slice(at);
          },
          'event.error': (error: RdKafka.LibrdKafkaError) => {
            if (REFUSED_MESSAGE.test(error.message) || REFUSED_CODES.has(error.code)) settle(reason ?? error.message);
          },
        }),
      );
      admin.listTopics({ timeout: timeoutMs }, (error) => {
        if (!error) settle(undefined);
        else if (REFUSED_CODES.has(error.code)) settle(reason ?? error.message);
      });
    });
    if (refusal) {
      const protocol = String(librdkafka['security.protocol']);
      const mechanism = librdkafka['sasl.mechanisms'] ?? librdkafka['sasl.mechanism'];
      const how = `${protocol}${mechanism === undefined ? '' : `, ${String(mechanism)}`}`;
      throw new ConfigError(
        '--kafka-config',
        `Kafka at ${brokers} refused the connection (${how}): ${redactSecrets(refusal, librdkafka)}; check the credentials and TLS settings`,
      );
    }
  } finally {
    admin?.disconnect();
  }
}
