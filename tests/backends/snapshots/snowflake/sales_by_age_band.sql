SELECT
  *
FROM (
  SELECT
    "t7"."age_band",
    "t7"."orders",
    "t7"."customers",
    "t7"."revenue",
    CAST(FLOOR((
      (
        CAST("t7"."revenue" AS DOUBLE) / "t7"."orders"
      ) * 1
    ) + 0.5) AS BIGINT) / 1 AS "average_order_value",
    CAST(FLOOR(
      (
        (
          CAST("t7"."revenue" AS DOUBLE) / NULLIF(
            SUM("t7"."revenue") OVER (ORDER BY NULL ASC ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING),
            0
          )
        ) * 10000
      ) + 0.5
    ) AS BIGINT) / 10000 AS "revenue_share"
  FROM (
    SELECT
      "t6"."age_band",
      COUNT("t6"."order_id") AS "orders",
      COUNT(DISTINCT "t6"."customer_id") AS "customers",
      SUM("t6"."total") AS "revenue"
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
        "t5"."age_band"
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
      ) AS "t3"
      INNER JOIN (
        SELECT
          "t1"."customer_id",
          IFF(
            "t1"."birth_date" IS NOT NULL,
            CONCAT(
              LPAD(
                CAST(CAST(FLOOR(
                  CAST(FLOOR(DATEDIFF(DAY, "t1"."birth_date", DATE_FROM_PARTS(2026, 10, 31)) / 365.25) AS BIGINT) / 10
                ) AS BIGINT) * 10 AS VARCHAR),
                GREATEST(
                  LENGTH(
                    CAST(CAST(FLOOR(
                      CAST(FLOOR(DATEDIFF(DAY, "t1"."birth_date", DATE_FROM_PARTS(2026, 10, 31)) / 365.25) AS BIGINT) / 10
                    ) AS BIGINT) * 10 AS VARCHAR)
                  ),
                  2
                ),
                '0'
              ),
              's'
            ),
            '(不明)'
          ) AS "age_band"
        FROM "customers" AS "t1"
      ) AS "t5"
        ON "t3"."customer_id" = "t5"."customer_id"
    ) AS "t6"
    GROUP BY
      1
  ) AS "t7"
) AS "t8"
ORDER BY
  "t8"."age_band" ASC
