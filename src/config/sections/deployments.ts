/** `deployments`: deploy markers (`prodmon deploy mark`, `POST /production/api/deployments`). */
import { duration, obj } from '../zod-helpers.js';

export const deploymentsSection = obj({
  /**
   * An alert that starts firing this long or less after a deploy marker names it ("firing 3 min after
   * deploy v1.4.2"); 0s turns that off.
   */
  alert_window: duration('30m', { max: '1d' }),
}).prefault({});
