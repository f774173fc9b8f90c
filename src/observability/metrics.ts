// Prometheus metrics (prom-client). One registry per daemon, so tests can run several side by side.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface HttpMetrics {
  observe(method: string, route: string, status: number, seconds: number): void;
}

export interface Metrics extends HttpMetrics {
  registry: Registry;
  counter(name: string, help: string, labelNames?: string[]): Counter<string>;
  gauge(
    name: string,
    help: string,
    labelNames?: string[],
    collect?: (g: Gauge<string>) => void | Promise<void>,
  ): Gauge<string>;
  render(): Promise<string>;
  contentType: string;
}

export function createMetrics(options: { defaultMetrics?: boolean; instanceId?: string } = {}): Metrics {
  const registry = new Registry();
  // Every series names the daemon it came from, so several instances behind one balancer are told
  // apart. `instance_id`, not `instance`: Prometheus sets `instance` to the scraped target itself.
  if (options.instanceId) registry.setDefaultLabels({ instance_id: options.instanceId });
  // prom-client's names already say what they are (process_cpu_seconds_total, nodejs_heap_size_used_bytes):
  // the prefix only adds ours, so they read nwa_process_... and nwa_nodejs_..., never nwa_process_process_.
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'nwa_' });
  const latency = new Histogram({
    name: 'nwa_http_request_duration_seconds',
    help: 'HTTP request latency by method, route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const counters = new Map<string, Counter<string>>();
  const gauges = new Map<string, Gauge<string>>();
  return {
    registry,
    contentType: registry.contentType,
    observe(method, route, status, seconds) {
      latency.observe({ method, route, status: String(status) }, seconds);
    },
    counter(name, help, labelNames = []) {
      let c = counters.get(name);
      if (!c) {
        c = new Counter({ name, help, labelNames, registers: [registry] });
        counters.set(name, c);
      }
      return c;
    },
    gauge(name, help, labelNames = [], collect) {
      let g = gauges.get(name);
      if (!g) {
        g = new Gauge({
          name,
          help,
          labelNames,
          registers: [registry],
          ...(collect
            ? {
                collect(this: Gauge<string>) {
                  return collect(this);
                },
              }
            : {}),
        });
        gauges.set(name, g);
      }
      return g;
    },
    render: () => registry.metrics(),
  };
}
