import { z } from 'zod';

/**
 * One message on the notifications topic, as the notifier publishes it and subscribers (`up --notifications`) read
 * it: an outcome, never data. `file` is the uploaded file's name, `msg` a count or a stage, never a row's values (a
 * validator's reasons may quote them). `notification_id` is the same for every replay of one transition, so
 * subscribers drop what they have seen: SNS standard topics deliver at least once.
 */
export const Notification = z.object({
  notification_id: z.string(),
  kind: z.enum(['file', 'batch', 'delivery']),
  status: z.enum(['SUCCESS', 'FAILURE']),
  client: z.string(),
  batch_date: z.string().optional(),
  file: z.string().optional(),
  stage: z.string().optional(),
  generation: z.number().int().nonnegative().optional(),
  msg: z.string(),
});
export type Notification = z.infer<typeof Notification>;
