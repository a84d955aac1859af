WITH "t4" AS (
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
)
SELECT
  "t16"."gender",
  "t16"."customers",
  "t16"."revenue",
  CAST(FLOOR(
    (
      (
        CAST("t16"."revenue" AS DOUBLE) / NULLIF("t16"."customers", 0)
      ) * 1
    ) + 0.5
  ) AS BIGINT) / 1 AS "ltv",
  CAST(FLOOR(
    (
      (
        CAST("t16"."orders" AS DOUBLE) / NULLIF("t16"."customers", 0)
      ) * 100
    ) + 0.5
  ) AS BIGINT) / 100 AS "orders_per_customer",
  "t16"."matured_customers",
  CAST(FLOOR(
    (
      (
        CAST("t16"."matured_revenue" AS DOUBLE) / NULLIF("t16"."matured_customers", 0)
      ) * 1
    ) + 0.5
  ) AS BIGINT) / 1 AS "ltv_matured"
FROM (
  SELECT
    "t15"."gender",
    COUNT("t15"."customer_id") AS "customers",
    SUM("t15"."revenue") AS "revenue",
    SUM("t15"."orders") AS "orders",
    SUM("t15"."matured") AS "matured_customers",
    SUM(IFF("t15"."matured" = 1, "t15"."revenue", 0)) AS "matured_revenue"
  FROM (
    SELECT
      "t14"."customer_id",
      "t14"."first_date",
      "t14"."revenue",
      "t14"."orders",
      "t14"."matured",
      "t3"."gender"
    FROM (
      SELECT
        "t12"."customer_id",
        "t12"."first_date",
        "t12"."revenue",
        "t12"."orders",
        IFF(DATEDIFF(DAY, "t12"."first_date", DATE_FROM_PARTS(2026, 10, 31)) >= 365, 1, 0) AS "matured"
      FROM (
        SELECT
          "t11"."customer_id",
          "t11"."first_date",
          SUM("t11"."total") AS "revenue",
          COUNT("t11"."order_id") AS "orders"
        FROM (
          SELECT
            "t10"."order_id",
            "t10"."customer_id",
            "t10"."ordered_at",
            "t10"."status",
            "t10"."channel",
            "t10"."subtotal",
            "t10"."discount",
            "t10"."shipping_fee",
            "t10"."points_used",
            "t10"."total",
            "t10"."points_earned",
            "t10"."coupon_code",
            "t10"."subscription_id",
            "t10"."payment_method",
            "t10"."shipping_prefecture",
            "t10"."is_gift",
            "t10"."order_date",
            "t10"."first_date",
            "t10"."cohort_month",
            "t10"."cohort_idx",
            (
              (
                (
                  DATE_PART(year, "t10"."order_date") * 12
                ) + DATE_PART(month, "t10"."order_date")
              ) - 1
            ) - "t10"."cohort_idx" AS "months_since"
          FROM (
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
              "t9"."first_date",
              "t9"."cohort_month",
              "t9"."cohort_idx"
            FROM "t4" AS "t6"
            INNER JOIN (
              SELECT
                "t7"."customer_id",
                "t7"."first_date",
                DATE_TRUNC('MONTH', "t7"."first_date") AS "cohort_month",
                (
                  (
                    DATE_PART(year, "t7"."first_date") * 12
                  ) + DATE_PART(month, "t7"."first_date")
                ) - 1 AS "cohort_idx"
              FROM (
                SELECT
                  "t5"."customer_id",
                  MIN("t5"."order_date") AS "first_date"
                FROM "t4" AS "t5"
                GROUP BY
                  1
              ) AS "t7"
            ) AS "t9"
              ON "t6"."customer_id" = "t9"."customer_id"
          ) AS "t10"
          WHERE
            DATEDIFF(DAY, "t10"."first_date", "t10"."order_date") <= 365
        ) AS "t11"
        GROUP BY
          1,
          2
      ) AS "t12"
    ) AS "t14"
    INNER JOIN (
      SELECT
        "t0"."customer_id",
        COALESCE("t0"."gender", 'unknown') AS "gender"
      FROM "customers" AS "t0"
    ) AS "t3"
      ON "t14"."customer_id" = "t3"."customer_id"
  ) AS "t15"
  GROUP BY
    1
) AS "t16"
ORDER BY
  "t16"."customers" DESC NULLS LAST,
  "t16"."gender" ASC
