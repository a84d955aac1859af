SELECT
  "t7"."delivery_number",
  "t7"."deliveries",
  "t7"."skipped",
  CAST(FLOOR(
    (
      (
        CAST("t7"."skipped" AS DOUBLE) / NULLIF("t7"."deliveries", 0)
      ) * 10000
    ) + 0.5
  ) AS BIGINT) / 10000 AS "skip_rate"
FROM (
  SELECT
    "t6"."delivery_number",
    COUNT("t6"."subscription_id") AS "deliveries",
    SUM(IFF("t6"."status" = 'skipped', 1, 0)) AS "skipped"
  FROM (
    SELECT
      "t3"."subscription_id",
      "t3"."delivery_number",
      "t3"."scheduled_on",
      "t3"."status",
      "t3"."shipped_at",
      "t3"."order_id",
      "t3"."amount"
    FROM (
      SELECT
        *
      FROM "subscription_deliveries" AS "t0"
      WHERE
        "t0"."status" IN ('shipped', 'skipped')
        AND "t0"."scheduled_on" <= DATE_FROM_PARTS(2026, 10, 31)
        AND "t0"."delivery_number" <= 12
    ) AS "t3"
    INNER JOIN (
      SELECT
        "t1"."subscription_id"
      FROM "subscriptions" AS "t1"
      WHERE
        TO_DATE(DATEADD(HOUR, '9', "t1"."started_at")) <= DATE_FROM_PARTS(2026, 10, 31)
    ) AS "t5"
      ON "t3"."subscription_id" = "t5"."subscription_id"
  ) AS "t6"
  GROUP BY
    1
) AS "t7"
ORDER BY
  "t7"."delivery_number" ASC
