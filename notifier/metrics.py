"""The notifier's Prometheus metrics (served on its side port's /metrics)."""

from prometheus_client import Counter, Gauge, Histogram

RECORDS = Counter("sensr_notifier_records_total", "Activity records read from sensr.activity, by type.", ["type"])
BAD_RECORDS = Counter("sensr_notifier_bad_records_total",
                      "Activity records skipped because they do not follow the contract.")
DELIVERIES_ADDED = Counter("sensr_notifier_deliveries_added_total",
                           "Deliveries recorded for a record and rule (re-deliveries of a record add none), "
                           "by state: pending (to send) or skipped (quiet hours, spacing).", ["state"])
ATTEMPTS = Counter("sensr_notifier_attempts_total", "Delivery attempts, by channel and outcome.",
                   ["channel", "outcome"])
SEND_SECONDS = Histogram("sensr_notifier_send_seconds", "Time of one delivery attempt, by channel.", ["channel"],
                         buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
IN_FLIGHT = Gauge("sensr_notifier_sends_in_flight", "Deliveries being sent by this replica.")
INTAKE_RETRIES = Counter("sensr_notifier_intake_retries_total",
                         "Batches of activity records whose deliveries could not be recorded (database "
                         "unavailable) and were tried again before their offsets were committed.")
KEY_FRAME_READS = Counter("sensr_notifier_key_frame_reads_total",
                          "Key frames read for motion alerts, by where they were found: kafka (where the activity "
                          "record says), store (the record says nowhere, or Kafka no longer has it) or missing "
                          "(neither has it yet: the delivery is postponed).", ["source"])
KEY_FRAME_MISMATCHES = Counter("sensr_notifier_key_frame_mismatches_total",
                               "Activity records whose key_frame_location held another frame than their key frame "
                               "(the frame was then looked for in the store).")
