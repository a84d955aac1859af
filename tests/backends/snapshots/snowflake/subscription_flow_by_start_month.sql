SELECT
  "t11"."start_month",
  "t11"."delivery_count",
  "t11"."subscriptions",
  "t11"."continued",
  "t11"."censored",
  (
    "t11"."subscriptions" - "t11"."continued"
  ) - "t11"."censored" AS "dropped",
  CAST(FLOOR(
    (
      (
        CAST("t11"."continued" AS DOUBLE) / NULLIF("t11"."subscriptions" - "t11"."censored", 0)
      ) * 10000
    ) + 0.5
  ) AS BIGINT) / 10000 AS "continuation_rate"
FROM (
  SELECT
    "t10"."start_month",
    "t10"."delivery_count",
    COUNT("t10"."subscription_id") AS "subscriptions",
    SUM(IFF("t10"."shipped" > "t10"."delivery_count", 1, 0)) AS "continued",
    SUM(
      IFF(
        (
          "t10"."shipped" = "t10"."delivery_count"
        ) AND (
          "t10"."is_cancelled" = 0
        ),
        1,
        0
      )
    ) AS "censored"
  FROM (
    SELECT
      *
    FROM (
      SELECT
        "t8"."subscription_id",
        "t8"."is_cancelled",
        "t8"."start_month",
        COALESCE("t7"."shipped", 0) AS "shipped",
        "t3"."delivery_count"
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
          ) AS "is_cancelled",
          DATE_TRUNC('MONTH', TO_DATE(DATEADD(HOUR, '9', "t0"."started_at"))) AS "start_month",
          CONCAT(CONCAT(CAST("t0"."cycle_interval" AS VARCHAR), ' '), "t0"."cycle_unit") AS "cycle"
        FROM "subscriptions" AS "t0"
        WHERE
          TO_DATE(DATEADD(HOUR, '9', "t0"."started_at")) <= DATE_FROM_PARTS(2026, 10, 31)
      ) AS "t8"
      LEFT OUTER JOIN (
        SELECT
          "t4"."subscription_id",
          COUNT("t4"."delivery_number") AS "shipped"
        FROM (
          SELECT
            *
          FROM "subscription_deliveries" AS "t2"
          WHERE
            "t2"."status" = 'shipped'
            AND "t2"."scheduled_on" <= DATE_FROM_PARTS(2026, 10, 31)
        ) AS "t4"
        GROUP BY
          1
      ) AS "t7"
        ON "t8"."subscription_id" = "t7"."subscription_id"
      CROSS JOIN "memtable_1" AS "t3"
    ) AS "t9"
    WHERE
      "t9"."shipped" >= "t9"."delivery_count"
  ) AS "t10"
  GROUP BY
    1,
    2
) AS "t11"
ORDER BY
  "t11"."start_month" ASC,
  "t11"."delivery_count" ASC
