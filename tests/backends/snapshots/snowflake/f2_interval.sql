SELECT
  *
FROM (
  SELECT
    "t8"."bucket_order",
    "t8"."bucket",
    "t8"."count",
    CAST(FLOOR(
      (
        (
          CAST("t8"."count" AS DOUBLE) / NULLIF(
            SUM("t8"."count") OVER (ORDER BY NULL ASC ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING),
            0
          )
        ) * 10000
      ) + 0.5
    ) AS BIGINT) / 10000 AS "share",
    CAST(FLOOR(
      (
        (
          CAST(SUM("t8"."count") OVER (ORDER BY "t8"."bucket_order" ASC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS DOUBLE) / NULLIF(
            SUM("t8"."count") OVER (ORDER BY NULL ASC ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING),
            0
          )
        ) * 10000
      ) + 0.5
    ) AS BIGINT) / 10000 AS "cumulative_share"
  FROM (
    SELECT
      "t2"."bucket_order",
      "t2"."bucket",
      COALESCE("t7"."n", 0) AS "count"
    FROM "memtable_1" AS "t2"
    LEFT OUTER JOIN (
      SELECT
        "t5"."bucket_order",
        COUNT("t5"."days_to_next") AS "n"
      FROM (
        SELECT
          "t4"."order_id",
          "t4"."customer_id",
          "t4"."ordered_at",
          "t4"."status",
          "t4"."channel",
          "t4"."subtotal",
          "t4"."discount",
          "t4"."shipping_fee",
          "t4"."points_used",
          "t4"."total",
          "t4"."points_earned",
          "t4"."coupon_code",
          "t4"."subscription_id",
          "t4"."payment_method",
          "t4"."shipping_prefecture",
          "t4"."is_gift",
          "t4"."order_date",
          "t4"."order_no",
          "t4"."next_date",
          DATEDIFF(DAY, "t4"."order_date", "t4"."next_date") AS "days_to_next",
          CASE
            WHEN DATEDIFF(DAY, "t4"."order_date", "t4"."next_date") <= 7
            THEN 0
            WHEN DATEDIFF(DAY, "t4"."order_date", "t4"."next_date") <= 14
            THEN 1
            WHEN DATEDIFF(DAY, "t4"."order_date", "t4"."next_date") <= 30
            THEN 2
            WHEN DATEDIFF(DAY, "t4"."order_date", "t4"."next_date") <= 60
            THEN 3
            WHEN DATEDIFF(DAY, "t4"."order_date", "t4"."next_date") <= 90
            THEN 4
            WHEN DATEDIFF(DAY, "t4"."order_date", "t4"."next_date") <= 180
            THEN 5
            WHEN DATEDIFF(DAY, "t4"."order_date", "t4"."next_date") <= 365
            THEN 6
            ELSE 7
          END AS "bucket_order"
        FROM (
          SELECT
            "t3"."order_id",
            "t3"."customer_id",
            "t3"."ordered_at",
            "t3"."status",
            "t3"."channel",
            "t3"."subtotal",
            "t3"."discount",
            "t3"."shipping_fee",
            "t3"."points_used",
            "t3"."total",
            "t3"."points_earned",
            "t3"."coupon_code",
            "t3"."subscription_id",
            "t3"."payment_method",
            "t3"."shipping_prefecture",
            "t3"."is_gift",
            "t3"."order_date",
            (
              ROW_NUMBER() OVER (
                PARTITION BY "t3"."customer_id"
                ORDER BY "t3"."ordered_at" ASC, "t3"."order_id" ASC
              ) - 1
            ) + 1 AS "order_no",
            LEAD("t3"."order_date") OVER (
              PARTITION BY "t3"."customer_id"
              ORDER BY "t3"."ordered_at" ASC, "t3"."order_id" ASC
            ) AS "next_date"
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
        ) AS "t4"
        WHERE
          "t4"."order_no" = 1
          AND DATEDIFF(DAY, "t4"."order_date", "t4"."next_date") IS NOT NULL
      ) AS "t5"
      GROUP BY
        1
    ) AS "t7"
      ON "t2"."bucket_order" = "t7"."bucket_order"
  ) AS "t8"
) AS "t9"
ORDER BY
  "t9"."bucket_order" ASC
