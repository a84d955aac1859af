SELECT
  *
FROM (
  SELECT
    "t2"."channel",
    "t2"."orders",
    "t2"."customers",
    "t2"."revenue",
    CAST(FLOOR((
      (
        CAST("t2"."revenue" AS DOUBLE) / "t2"."orders"
      ) * 1
    ) + 0.5) AS BIGINT) / 1 AS "average_order_value",
    CAST(FLOOR(
      (
        (
          CAST("t2"."revenue" AS DOUBLE) / NULLIF(
            SUM("t2"."revenue") OVER (ORDER BY NULL ASC ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING),
            0
          )
        ) * 10000
      ) + 0.5
    ) AS BIGINT) / 10000 AS "revenue_share"
  FROM (
    SELECT
      "t1"."channel",
      COUNT("t1"."order_id") AS "orders",
      COUNT(DISTINCT "t1"."customer_id") AS "customers",
      SUM("t1"."total") AS "revenue"
    FROM (
      SELECT
        "t0"."order_id",
        "t0"."customer_id",
        "t0"."ordered_at",
        "t0"."status",
        COALESCE("t0"."channel", '(不明)') AS "channel",
        "t0"."subtotal",
        "t0"."discount",
        "t0"."shipping_fee",
        "t0"."points_used",
        "t0"."total",
        "t0"."points_earned",
        "t0"."coupon_code",
        "t0"."subscription_id",
        "t0"."payment_method",
        "t0"."shipping_prefecture",
        "t0"."is_gift",
        TO_DATE(DATEADD(HOUR, '9', "t0"."ordered_at")) AS "order_date"
      FROM "orders" AS "t0"
      WHERE
        "t0"."status" = 'completed'
        AND "t0"."customer_id" IS NOT NULL
        AND "t0"."ordered_at" < TIMESTAMP_FROM_PARTS(2026, 10, 31, 15, 0, 0, 0)
    ) AS "t1"
    GROUP BY
      1
  ) AS "t2"
) AS "t3"
ORDER BY
  "t3"."revenue" DESC NULLS LAST,
  "t3"."channel" ASC
