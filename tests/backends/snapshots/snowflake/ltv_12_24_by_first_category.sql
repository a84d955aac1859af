WITH "t6" AS (
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
), "t10" AS (
  SELECT
    "t7"."order_id",
    "t7"."customer_id",
    "t7"."ordered_at",
    "t7"."status",
    "t7"."channel",
    "t7"."subtotal",
    "t7"."discount",
    "t7"."shipping_fee",
    "t7"."points_used",
    "t7"."total",
    "t7"."points_earned",
    "t7"."coupon_code",
    "t7"."subscription_id",
    "t7"."payment_method",
    "t7"."shipping_prefecture",
    "t7"."is_gift",
    "t7"."order_date",
    (
      ROW_NUMBER() OVER (
        PARTITION BY "t7"."customer_id"
        ORDER BY "t7"."ordered_at" ASC, "t7"."order_id" ASC
      ) - 1
    ) + 1 AS "order_no"
  FROM "t6" AS "t7"
)
SELECT
  "t31"."first_category",
  "t31"."customers",
  "t31"."customers_12m",
  CAST(FLOOR(
    (
      (
        CAST("t31"."revenue_12m" AS DOUBLE) / NULLIF("t31"."customers_12m", 0)
      ) * 1
    ) + 0.5
  ) AS BIGINT) / 1 AS "ltv_12m",
  "t31"."customers_24m",
  CAST(FLOOR(
    (
      (
        CAST("t31"."revenue_24m" AS DOUBLE) / NULLIF("t31"."customers_24m", 0)
      ) * 1
    ) + 0.5
  ) AS BIGINT) / 1 AS "ltv_24m"
FROM (
  SELECT
    "t30"."first_category",
    COUNT("t30"."customer_id") AS "customers",
    SUM(IFF("t30"."age_days" >= 365, 1, 0)) AS "customers_12m",
    SUM(IFF("t30"."age_days" >= 365, "t30"."revenue_12m", 0)) AS "revenue_12m",
    SUM(IFF("t30"."age_days" >= 730, 1, 0)) AS "customers_24m",
    SUM(IFF("t30"."age_days" >= 730, "t30"."revenue_24m", 0)) AS "revenue_24m"
  FROM (
    SELECT
      "t26"."customer_id",
      "t26"."first_date",
      "t26"."revenue_12m",
      "t26"."revenue_24m",
      "t26"."age_days",
      "t29"."first_category"
    FROM (
      SELECT
        "t21"."customer_id",
        "t21"."first_date",
        SUM(
          IFF(DATEDIFF(DAY, "t21"."first_date", "t21"."order_date") < 365, "t21"."total", 0)
        ) AS "revenue_12m",
        SUM(
          IFF(DATEDIFF(DAY, "t21"."first_date", "t21"."order_date") < 730, "t21"."total", 0)
        ) AS "revenue_24m",
        MAX(DATEDIFF(DAY, "t21"."first_date", DATE_FROM_PARTS(2026, 10, 31))) AS "age_days"
      FROM (
        SELECT
          "t18"."order_id",
          "t18"."customer_id",
          "t18"."ordered_at",
          "t18"."status",
          "t18"."channel",
          "t18"."subtotal",
          "t18"."discount",
          "t18"."shipping_fee",
          "t18"."points_used",
          "t18"."total",
          "t18"."points_earned",
          "t18"."coupon_code",
          "t18"."subscription_id",
          "t18"."payment_method",
          "t18"."shipping_prefecture",
          "t18"."is_gift",
          "t18"."order_date",
          "t18"."first_date",
          "t18"."cohort_month",
          "t18"."cohort_idx",
          (
            (
              (
                DATE_PART(year, "t18"."order_date") * 12
              ) + DATE_PART(month, "t18"."order_date")
            ) - 1
          ) - "t18"."cohort_idx" AS "months_since"
        FROM (
          SELECT
            "t8"."order_id",
            "t8"."customer_id",
            "t8"."ordered_at",
            "t8"."status",
            "t8"."channel",
            "t8"."subtotal",
            "t8"."discount",
            "t8"."shipping_fee",
            "t8"."points_used",
            "t8"."total",
            "t8"."points_earned",
            "t8"."coupon_code",
            "t8"."subscription_id",
            "t8"."payment_method",
            "t8"."shipping_prefecture",
            "t8"."is_gift",
            "t8"."order_date",
            "t15"."first_date",
            "t15"."cohort_month",
            "t15"."cohort_idx"
          FROM "t6" AS "t8"
          INNER JOIN (
            SELECT
              "t9"."customer_id",
              "t9"."first_date",
              DATE_TRUNC('MONTH', "t9"."first_date") AS "cohort_month",
              (
                (
                  DATE_PART(year, "t9"."first_date") * 12
                ) + DATE_PART(month, "t9"."first_date")
              ) - 1 AS "cohort_idx"
            FROM (
              SELECT
                "t7"."customer_id",
                MIN("t7"."order_date") AS "first_date"
              FROM "t6" AS "t7"
              GROUP BY
                1
            ) AS "t9"
          ) AS "t15"
            ON "t8"."customer_id" = "t15"."customer_id"
        ) AS "t18"
      ) AS "t21"
      GROUP BY
        1,
        2
    ) AS "t26"
    INNER JOIN (
      SELECT
        "t27"."customer_id",
        "t27"."category" AS "first_category"
      FROM (
        SELECT
          "t16"."customer_id",
          "t24"."main" AS "category"
        FROM (
          SELECT
            *
          FROM "t10" AS "t11"
          WHERE
            "t11"."order_no" = 1
        ) AS "t16"
        INNER JOIN (
          SELECT
            "t22"."order_id",
            "t22"."category" AS "main"
          FROM (
            SELECT
              "t20"."order_id",
              "t20"."category",
              "t20"."amount",
              ROW_NUMBER() OVER (
                PARTITION BY "t20"."order_id"
                ORDER BY "t20"."amount" DESC NULLS LAST, "t20"."category" ASC
              ) - 1 AS "rn"
            FROM (
              SELECT
                "t19"."order_id",
                "t19"."category",
                SUM("t19"."amount") AS "amount"
              FROM (
                SELECT
                  "t3"."order_id",
                  "t3"."line_no",
                  "t3"."product_id",
                  "t3"."quantity",
                  "t3"."amount",
                  COALESCE(COALESCE("t3"."category", "t5"."master_category"), '(未分類)') AS "category",
                  "t17"."customer_id",
                  "t17"."ordered_at",
                  "t17"."order_date"
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
                    "t11"."order_id",
                    "t11"."customer_id",
                    "t11"."ordered_at",
                    "t11"."order_date"
                  FROM "t10" AS "t11"
                  WHERE
                    "t11"."order_no" = 1
                ) AS "t17"
                  ON "t3"."order_id" = "t17"."order_id"
              ) AS "t19"
              GROUP BY
                1,
                2
            ) AS "t20"
          ) AS "t22"
          WHERE
            "t22"."rn" = 0
        ) AS "t24"
          ON "t16"."order_id" = "t24"."order_id"
      ) AS "t27"
    ) AS "t29"
      ON "t26"."customer_id" = "t29"."customer_id"
  ) AS "t30"
  GROUP BY
    1
) AS "t31"
ORDER BY
  "t31"."customers" DESC NULLS LAST,
  "t31"."first_category" ASC
