SELECT
  "t8"."threshold_days",
  "t8"."customers",
  "t8"."dormant_customers",
  "t8"."dormant_one_time",
  "t8"."dormant_repeat",
  "t8"."dormant_revenue",
  CAST(FLOOR(
    (
      (
        CAST("t8"."dormant_customers" AS DOUBLE) / NULLIF("t8"."customers", 0)
      ) * 10000
    ) + 0.5
  ) AS BIGINT) / 10000 AS "dormant_share"
FROM (
  SELECT
    "t7"."threshold_days",
    COUNT("t7"."customer_id") AS "customers",
    SUM(IFF("t7"."recency_days" >= "t7"."threshold_days", 1, 0)) AS "dormant_customers",
    SUM(
      IFF((
        "t7"."recency_days" >= "t7"."threshold_days"
      ) AND (
        "t7"."orders" = 1
      ), 1, 0)
    ) AS "dormant_one_time",
    SUM(
      IFF(
        (
          "t7"."recency_days" >= "t7"."threshold_days"
        ) AND (
          "t7"."orders" >= 2
        ),
        1,
        0
      )
    ) AS "dormant_repeat",
    SUM(IFF("t7"."recency_days" >= "t7"."threshold_days", "t7"."revenue", 0)) AS "dormant_revenue"
  FROM (
    SELECT
      "t6"."customer_id",
      "t6"."orders",
      "t6"."revenue",
      "t6"."first_order",
      "t6"."last_order",
      "t6"."recency_days",
      "t2"."threshold_days"
    FROM (
      SELECT
        "t4"."customer_id",
        "t4"."orders",
        "t4"."revenue",
        "t4"."first_order",
        "t4"."last_order",
        DATEDIFF(DAY, "t4"."last_order", DATE_FROM_PARTS(2026, 10, 31)) AS "recency_days"
      FROM (
        SELECT
          "t3"."customer_id",
          COUNT("t3"."order_id") AS "orders",
          SUM("t3"."total") AS "revenue",
          MIN("t3"."order_date") AS "first_order",
          MAX("t3"."order_date") AS "last_order"
        FROM (
          SELECT
            "t1"."order_id",
            "t1"."customer_id",
            "t1"."ordered_at",
            "t1"."status",
            "t1"."channel",
            "t1"."subtotal",
            "t1"."discount",
            "t1"."shipping_fee",
            "t1"."points_used",
            "t1"."total",
            "t1"."points_earned",
            "t1"."coupon_code",
            "t1"."subscription_id",
            "t1"."payment_method",
            "t1"."shipping_prefecture",
            "t1"."is_gift",
            TO_DATE(DATEADD(HOUR, '9', "t1"."ordered_at")) AS "order_date"
          FROM "orders" AS "t1"
          WHERE
            "t1"."status" = 'completed'
            AND "t1"."customer_id" IS NOT NULL
            AND "t1"."ordered_at" < TIMESTAMP_FROM_PARTS(2026, 10, 31, 15, 0, 0, 0)
        ) AS "t3"
        GROUP BY
          1
      ) AS "t4"
    ) AS "t6"
    CROSS JOIN "memtable_1" AS "t2"
  ) AS "t7"
  GROUP BY
    1
) AS "t8"
ORDER BY
  "t8"."threshold_days" ASC
