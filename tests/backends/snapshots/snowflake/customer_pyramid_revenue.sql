SELECT
  *
FROM (
  SELECT
    "t9"."tier_order",
    "t9"."tier",
    "t9"."customers",
    "t9"."revenue",
    "t9"."min_revenue",
    CAST(FLOOR(
      (
        (
          CAST("t9"."revenue" AS DOUBLE) / NULLIF(
            SUM("t9"."revenue") OVER (ORDER BY NULL ASC ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING),
            0
          )
        ) * 10000
      ) + 0.5
    ) AS BIGINT) / 10000 AS "revenue_share"
  FROM (
    SELECT
      "t2"."tier_order",
      "t2"."tier",
      COALESCE("t8"."customers", 0) AS "customers",
      COALESCE("t8"."revenue", 0) AS "revenue",
      "t8"."min_revenue"
    FROM "memtable_1" AS "t2"
    LEFT OUTER JOIN (
      SELECT
        "t6"."tier_order",
        COUNT("t6"."customer_id") AS "customers",
        SUM("t6"."revenue") AS "revenue",
        MIN("t6"."revenue") AS "min_revenue"
      FROM (
        SELECT
          "t5"."customer_id",
          "t5"."orders",
          "t5"."revenue",
          "t5"."first_order",
          "t5"."last_order",
          "t5"."average_order_value",
          "t5"."pos",
          "t5"."n",
          CASE
            WHEN "t5"."pos" <= CAST(CEIL((
              "t5"."n" * 1
            ) / 100) AS BIGINT)
            THEN 0
            WHEN "t5"."pos" <= CAST(CEIL((
              "t5"."n" * 5
            ) / 100) AS BIGINT)
            THEN 1
            WHEN "t5"."pos" <= CAST(CEIL((
              "t5"."n" * 20
            ) / 100) AS BIGINT)
            THEN 2
            WHEN "t5"."pos" <= CAST(CEIL((
              "t5"."n" * 50
            ) / 100) AS BIGINT)
            THEN 3
            ELSE 4
          END AS "tier_order"
        FROM (
          SELECT
            "t4"."customer_id",
            "t4"."orders",
            "t4"."revenue",
            "t4"."first_order",
            "t4"."last_order",
            "t4"."average_order_value",
            (
              ROW_NUMBER() OVER (ORDER BY "t4"."revenue" DESC NULLS LAST, "t4"."customer_id" ASC) - 1
            ) + 1 AS "pos",
            COUNT("t4"."customer_id") OVER (ORDER BY NULL ASC ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS "n"
          FROM (
            SELECT
              "t3"."customer_id",
              COUNT("t3"."order_id") AS "orders",
              SUM("t3"."total") AS "revenue",
              MIN("t3"."order_date") AS "first_order",
              MAX("t3"."order_date") AS "last_order",
              CAST(FLOOR((
                AVG("t3"."total") * 1
              ) + 0.5) AS BIGINT) / 1 AS "average_order_value"
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
        ) AS "t5"
      ) AS "t6"
      GROUP BY
        1
    ) AS "t8"
      ON "t2"."tier_order" = "t8"."tier_order"
  ) AS "t9"
) AS "t10"
ORDER BY
  "t10"."tier_order" ASC
