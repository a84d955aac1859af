WITH "t7" AS (
  SELECT
    "t6"."order_id",
    "t6"."customer_id",
    "t6"."ordered_at",
    "t6"."status",
    "t6"."channel",
    "t6"."subtotal",
    "t6"."discount",
    "t6"."shipping_fee",
    "t6"."points_used",
    "t6"."total",
    "t6"."points_earned",
    "t6"."coupon_code",
    "t6"."subscription_id",
    "t6"."payment_method",
    "t6"."shipping_prefecture",
    "t6"."is_gift",
    "t6"."order_date",
    (
      ROW_NUMBER() OVER (
        PARTITION BY "t6"."customer_id"
        ORDER BY "t6"."ordered_at" ASC, "t6"."order_id" ASC
      ) - 1
    ) + 1 AS "order_no"
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
  ) AS "t6"
)
SELECT
  *
FROM (
  SELECT
    "t26"."category",
    "t26"."customers",
    CAST(FLOOR(
      (
        (
          CAST("t26"."customers" AS DOUBLE) / NULLIF(
            SUM("t26"."customers") OVER (ORDER BY NULL ASC ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING),
            0
          )
        ) * 10000
      ) + 0.5
    ) AS BIGINT) / 10000 AS "customer_share",
    "t26"."revenue",
    CAST(FLOOR(
      (
        (
          CAST("t26"."revenue" AS DOUBLE) / NULLIF("t26"."customers", 0)
        ) * 1
      ) + 0.5
    ) AS BIGINT) / 1 AS "average_order_value",
    "t26"."next_customers",
    CAST(FLOOR(
      (
        (
          CAST("t26"."next_customers" AS DOUBLE) / NULLIF("t26"."customers", 0)
        ) * 10000
      ) + 0.5
    ) AS BIGINT) / 10000 AS "next_rate"
  FROM (
    SELECT
      "t25"."category",
      COUNT("t25"."customer_id") AS "customers",
      SUM("t25"."total") AS "revenue",
      COUNT("t25"."buyer") AS "next_customers"
    FROM (
      SELECT
        "t24"."order_id",
        "t24"."customer_id",
        "t24"."ordered_at",
        "t24"."status",
        "t24"."channel",
        "t24"."subtotal",
        "t24"."discount",
        "t24"."shipping_fee",
        "t24"."points_used",
        "t24"."total",
        "t24"."points_earned",
        "t24"."coupon_code",
        "t24"."subscription_id",
        "t24"."payment_method",
        "t24"."shipping_prefecture",
        "t24"."is_gift",
        "t24"."order_date",
        "t24"."order_no",
        "t24"."category",
        "t12"."buyer"
      FROM (
        SELECT
          "t22".*
          EXCLUDE ("main")
        FROM (
          SELECT
            "t21"."order_id",
            "t21"."customer_id",
            "t21"."ordered_at",
            "t21"."status",
            "t21"."channel",
            "t21"."subtotal",
            "t21"."discount",
            "t21"."shipping_fee",
            "t21"."points_used",
            "t21"."total",
            "t21"."points_earned",
            "t21"."coupon_code",
            "t21"."subscription_id",
            "t21"."payment_method",
            "t21"."shipping_prefecture",
            "t21"."is_gift",
            "t21"."order_date",
            "t21"."order_no",
            "t21"."main",
            COALESCE("t21"."main", '(不明)') AS "category"
          FROM (
            SELECT
              "t20".*
              EXCLUDE ("order_id_right")
            FROM (
              SELECT
                "t13"."order_id",
                "t13"."customer_id",
                "t13"."ordered_at",
                "t13"."status",
                "t13"."channel",
                "t13"."subtotal",
                "t13"."discount",
                "t13"."shipping_fee",
                "t13"."points_used",
                "t13"."total",
                "t13"."points_earned",
                "t13"."coupon_code",
                "t13"."subscription_id",
                "t13"."payment_method",
                "t13"."shipping_prefecture",
                "t13"."is_gift",
                "t13"."order_date",
                "t13"."order_no",
                "t19"."order_id" AS "order_id_right",
                "t19"."main"
              FROM (
                SELECT
                  *
                FROM "t7" AS "t8"
                WHERE
                  "t8"."order_no" = 2
              ) AS "t13"
              LEFT OUTER JOIN (
                SELECT
                  "t17"."order_id",
                  "t17"."category" AS "main"
                FROM (
                  SELECT
                    "t16"."order_id",
                    "t16"."category",
                    "t16"."amount",
                    ROW_NUMBER() OVER (
                      PARTITION BY "t16"."order_id"
                      ORDER BY "t16"."amount" DESC NULLS LAST, "t16"."category" ASC
                    ) - 1 AS "rn"
                  FROM (
                    SELECT
                      "t15"."order_id",
                      "t15"."category",
                      SUM("t15"."amount") AS "amount"
                    FROM (
                      SELECT
                        "t3"."order_id",
                        "t3"."line_no",
                        "t3"."product_id",
                        "t3"."quantity",
                        "t3"."amount",
                        COALESCE(COALESCE("t3"."category", "t5"."master_category"), '(未分類)') AS "category",
                        "t14"."customer_id",
                        "t14"."ordered_at",
                        "t14"."order_date"
                      FROM "order_items" AS "t3"
                      LEFT OUTER JOIN (
                        SELECT
                          "t2"."product_id",
                          "t2"."category" AS "master_category"
                        FROM "products" AS "t2"
                      ) AS "t5"
                        ON "t3"."product_id" = "t5"."product_id"
                      INNER JOIN (
                        SELECT
                          "t8"."order_id",
                          "t8"."customer_id",
                          "t8"."ordered_at",
                          "t8"."order_date"
                        FROM "t7" AS "t8"
                        WHERE
                          "t8"."order_no" = 2
                      ) AS "t14"
                        ON "t3"."order_id" = "t14"."order_id"
                    ) AS "t15"
                    GROUP BY
                      1,
                      2
                  ) AS "t16"
                ) AS "t17"
                WHERE
                  "t17"."rn" = 0
              ) AS "t19"
                ON "t13"."order_id" = "t19"."order_id"
            ) AS "t20"
          ) AS "t21"
        ) AS "t22"
      ) AS "t24"
      LEFT OUTER JOIN (
        SELECT
          "t8"."customer_id" AS "buyer"
        FROM "t7" AS "t8"
        WHERE
          "t8"."order_no" = 3
      ) AS "t12"
        ON "t24"."customer_id" = "t12"."buyer"
    ) AS "t25"
    GROUP BY
      1
  ) AS "t26"
) AS "t27"
ORDER BY
  "t27"."customers" DESC NULLS LAST,
  "t27"."category" ASC
