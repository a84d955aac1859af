WITH "t3" AS (
  SELECT
    "t2"."customer_id",
    "t2"."orders",
    "t2"."revenue",
    "t2"."first_order",
    "t2"."last_order",
    "t2"."average_order_value",
    (
      NTILE(10) OVER (ORDER BY "t2"."revenue" DESC NULLS LAST, "t2"."customer_id" ASC) - 1
    ) + 1 AS "decile"
  FROM (
    SELECT
      "t1"."customer_id",
      COUNT("t1"."order_id") AS "orders",
      SUM("t1"."total") AS "revenue",
      MIN("t1"."order_date") AS "first_order",
      MAX("t1"."order_date") AS "last_order",
      CAST(FLOOR((
        AVG("t1"."total") * 1
      ) + 0.5) AS BIGINT) / 1 AS "average_order_value"
    FROM (
      SELECT
        "t0"."order_id",
        "t0"."customer_id",
        "t0"."ordered_at",
        "t0"."status",
        "t0"."channel",
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
)
SELECT
  *
FROM (
  SELECT
    "t7"."decile",
    "t7"."customers",
    "t7"."revenue",
    "t7"."orders",
    "t7"."min_revenue",
    "t7"."max_revenue",
    "t7"."revenue_share",
    CAST(FLOOR(
      (
        (
          SUM("t7"."revenue") OVER (ORDER BY "t7"."decile" ASC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) / (
            SELECT
              SUM("t4"."revenue") AS "Sum(revenue)"
            FROM "t3" AS "t4"
          )
        ) * 10000
      ) + 0.5
    ) AS BIGINT) / 10000 AS "cumulative_share"
  FROM (
    SELECT
      "t6"."decile",
      "t6"."customers",
      "t6"."revenue",
      "t6"."orders",
      "t6"."min_revenue",
      "t6"."max_revenue",
      CAST(FLOOR(
        (
          (
            "t6"."revenue" / (
              SELECT
                SUM("t4"."revenue") AS "Sum(revenue)"
              FROM "t3" AS "t4"
            )
          ) * 10000
        ) + 0.5
      ) AS BIGINT) / 10000 AS "revenue_share"
    FROM (
      SELECT
        "t4"."decile",
        COUNT("t4"."customer_id") AS "customers",
        SUM("t4"."revenue") AS "revenue",
        SUM("t4"."orders") AS "orders",
        MIN("t4"."revenue") AS "min_revenue",
        MAX("t4"."revenue") AS "max_revenue"
      FROM "t3" AS "t4"
      GROUP BY
        1
    ) AS "t6"
  ) AS "t7"
) AS "t8"
ORDER BY
  "t8"."decile" ASC
