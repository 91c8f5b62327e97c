/**
 * Results published to an MQTT broker (MQTT_URL) for PLC gateways and SCADA: every prediction
 * result on `<prefix>/<target name>/results`, trainings that ended and model activations on
 * `<prefix>/<target name>/models`, JSON, QoS 1. The client reconnects by itself; while the
 * broker is away, up to MQTT_BACKLOG messages wait (the oldest are dropped beyond that).
 */
export interface MqttPublisher {
  /** Where it stands: connected to the broker, messages waiting, dropped since the start. */
  status(): { connected: boolean; backlog: number; dropped: number; published: number; handled: number };
  /** Resolves once `count` events in all were handed to it (queued or published). */
  whenHandled(count: number): Promise<void>;
  /** Resolves once the client is connected to the broker (true) or has lost it (false). */
  whenConnected(connected: boolean): Promise<void>;
  close(): Promise<void>;
}
