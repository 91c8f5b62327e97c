import './root.ts';
import '../resolvers/node.ts';
import '../resolvers/auth.ts';
import '../resolvers/targets.ts';
import '../resolvers/algorithms.ts';
import '../resolvers/models.ts';
import '../resolvers/items.ts';
import '../resolvers/assessments.ts';
import '../resolvers/license.ts';
import '../resolvers/predictions.ts';
import '../resolvers/training.ts';
import '../resolvers/subscriptions.ts';
import '../resolvers/upstream.ts';
import '../resolvers/webhooks.ts';
import '../resolvers/regions.ts';
import '../resolvers/security.ts';
import { builder } from './builder.ts';

export const schema = builder.toSchema({ sortSchema: false });
