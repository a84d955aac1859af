SELECT
  *
FROM (
  SELECT
    "t4"."customer_id",
    "t4"."subscription_id",
    "t4"."product_id",
    "t4"."quantity",
    "t4"."unit_price",
    CONCAT(CONCAT(CAST("t4"."cycle_interval" AS VARCHAR), ' '), "t4"."cycle_unit") AS "cycle",
    CASE
      WHEN "t4"."is_cancelled" = 1
      THEN 'cancelled'
      WHEN "t4"."status" = 'paused'
      THEN 'paused'
      ELSE 'active'
    END AS "status_as_of",
    "t4"."start_date",
    IFF("t4"."is_cancelled" = 1, "t4"."cancel_date", NULL) AS "cancel_date",
    IFF("t4"."is_cancelled" = 1, "t4"."cancel_reason", NULL) AS "cancel_reason",
    COALESCE("t6"."shipped", 0) AS "shipped",
    COALESCE("t6"."skipped", 0) AS "skipped",
    COALESCE("t6"."shipped_amount", 0) AS "shipped_amount",
    "t6"."last_shipped_on",
    DATEDIFF(
      DAY,
      "t4"."start_date",
      IFF("t4"."is_cancelled" = 1, "t4"."cancel_date", DATE_FROM_PARTS(2026, 10, 31))
    ) AS "days_subscribed"
  FROM (
    SELECT
      "t0"."subscription_id",
      "t0"."customer_id",
      "t0"."product_id",
      "t0"."quantity",
      "t0"."unit_price",
      "t0"."cycle_unit",
      "t0"."cycle_interval",
      "t0"."status",
      "t0"."started_at",
      "t0"."cancelled_at",
      "t0"."cancel_reason",
      "t0"."next_delivery_on",
      "t0"."updated_at",
      TO_DATE(DATEADD(HOUR, '9', "t0"."started_at")) AS "start_date",
      TO_DATE(DATEADD(HOUR, '9', "t0"."cancelled_at")) AS "cancel_date",
      IFF(
        (
          TO_DATE(DATEADD(HOUR, '9', "t0"."cancelled_at")) IS NOT NULL
        )
        AND (
          TO_DATE(DATEADD(HOUR, '9', "t0"."cancelled_at")) <= DATE_FROM_PARTS(2026, 10, 31)
        ),
        1,
        0
      ) AS "is_cancelled"
    FROM "subscriptions" AS "t0"
    WHERE
      TO_DATE(DATEADD(HOUR, '9', "t0"."started_at")) <= DATE_FROM_PARTS(2026, 10, 31)
  ) AS "t4"
  LEFT OUTER JOIN (
    SELECT
      "t2"."subscription_id",
      SUM(IFF("t2"."status" = 'shipped', 1, 0)) AS "shipped",
      SUM(IFF("t2"."status" = 'skipped', 1, 0)) AS "skipped",
      SUM(IFF("t2"."status" = 'shipped', "t2"."amount", 0)) AS "shipped_amount",
      MAX(IFF("t2"."status" = 'shipped', "t2"."scheduled_on", NULL)) AS "last_shipped_on"
    FROM (
      SELECT
        *
      FROM "subscription_deliveries" AS "t1"
      WHERE
        "t1"."scheduled_on" <= DATE_FROM_PARTS(2026, 10, 31)
    ) AS "t2"
    GROUP BY
      1
  ) AS "t6"
    ON "t4"."subscription_id" = "t6"."subscription_id"
) AS "t7"
ORDER BY
  "t7"."customer_id" ASC,
  "t7"."subscription_id" ASC
