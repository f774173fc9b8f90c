// Where a conversation goes (SPEC §4): the class's own route if it names one, else the runtime's
// automation_mode. Escalation overrides both and always routes to a human.
import type { Config } from '../config/schema.js';
import type { Priority, Route } from './conversation.js';

export type AutomationMode = Config['runtime']['automation_mode'];

export function routeFor(
  cls: { route?: Route | undefined; priority: Priority },
  automationMode: AutomationMode,
): Route {
  if (cls.route) return cls.route;
  switch (automationMode) {
    case 'autonomous':
      return 'ai';
    case 'assisted':
      return 'hybrid';
    case 'priority':
      return cls.priority === 'high' ? 'human' : 'ai';
  }
}

export const ESCALATION_ROUTE: Route = 'human';
