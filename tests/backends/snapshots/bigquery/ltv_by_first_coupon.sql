WITH `t1` AS (
  SELECT
    `t0`.`order_id`,
    `t0`.`customer_id`,
    `t0`.`ordered_at`,
    `t0`.`status`,
    `t0`.`channel`,
    `t0`.`subtotal`,
    `t0`.`discount`,
    `t0`.`shipping_fee`,
    `t0`.`points_used`,
    `t0`.`total`,
    `t0`.`points_earned`,
    `t0`.`coupon_code`,
    `t0`.`subscription_id`,
    `t0`.`payment_method`,
    `t0`.`shipping_prefecture`,
    `t0`.`is_gift`,
    DATE(TIMESTAMP_ADD(`t0`.`ordered_at`, INTERVAL '9' HOUR)) AS `order_date`
  FROM `orders` AS `t0`
  WHERE
    `t0`.`status` = 'completed'
    AND `t0`.`customer_id` IS NOT NULL
    AND `t0`.`ordered_at` < DATETIME('2026-10-31T15:00:00')
)
SELECT
  `t16`.`first_coupon`,
  `t16`.`customers`,
  `t16`.`revenue`,
  ieee_divide(
    CAST(FLOOR(
      (
        ieee_divide(CAST(`t16`.`revenue` AS FLOAT64), NULLIF(`t16`.`customers`, 0)) * 1
      ) + 0.5
    ) AS INT64),
    1
  ) AS `ltv`,
  ieee_divide(
    CAST(FLOOR(
      (
        ieee_divide(CAST(`t16`.`orders` AS FLOAT64), NULLIF(`t16`.`customers`, 0)) * 100
      ) + 0.5
    ) AS INT64),
    100
  ) AS `orders_per_customer`,
  `t16`.`matured_customers`,
  ieee_divide(
    CAST(FLOOR(
      (
        ieee_divide(CAST(`t16`.`matured_revenue` AS FLOAT64), NULLIF(`t16`.`matured_customers`, 0)) * 1
      ) + 0.5
    ) AS INT64),
    1
  ) AS `ltv_matured`
FROM (
  SELECT
    `t15`.`first_coupon`,
    COUNT(`t15`.`customer_id`) AS `customers`,
    SUM(`t15`.`revenue`) AS `revenue`,
    SUM(`t15`.`orders`) AS `orders`,
    SUM(`t15`.`matured`) AS `matured_customers`,
    SUM(IF(`t15`.`matured` = 1, `t15`.`revenue`, 0)) AS `matured_revenue`
  FROM (
    SELECT
      `t14`.`customer_id`,
      `t14`.`first_date`,
      `t14`.`revenue`,
      `t14`.`orders`,
      `t14`.`matured`,
      `t9`.`first_coupon`
    FROM (
      SELECT
        `t12`.`customer_id`,
        `t12`.`first_date`,
        `t12`.`revenue`,
        `t12`.`orders`,
        IF(DATE_DIFF(DATE(2026, 10, 31), `t12`.`first_date`, DAY) >= 365, 1, 0) AS `matured`
      FROM (
        SELECT
          `t11`.`customer_id`,
          `t11`.`first_date`,
          SUM(`t11`.`total`) AS `revenue`,
          COUNT(`t11`.`order_id`) AS `orders`
        FROM (
          SELECT
            `t10`.`order_id`,
            `t10`.`customer_id`,
            `t10`.`ordered_at`,
            `t10`.`status`,
            `t10`.`channel`,
            `t10`.`subtotal`,
            `t10`.`discount`,
            `t10`.`shipping_fee`,
            `t10`.`points_used`,
            `t10`.`total`,
            `t10`.`points_earned`,
            `t10`.`coupon_code`,
            `t10`.`subscription_id`,
            `t10`.`payment_method`,
            `t10`.`shipping_prefecture`,
            `t10`.`is_gift`,
            `t10`.`order_date`,
            `t10`.`first_date`,
            `t10`.`cohort_month`,
            `t10`.`cohort_idx`,
            (
              (
                (
                  EXTRACT(year FROM `t10`.`order_date`) * 12
                ) + EXTRACT(month FROM `t10`.`order_date`)
              ) - 1
            ) - `t10`.`cohort_idx` AS `months_since`
          FROM (
            SELECT
              `t3`.`order_id`,
              `t3`.`customer_id`,
              `t3`.`ordered_at`,
              `t3`.`status`,
              `t3`.`channel`,
              `t3`.`subtotal`,
              `t3`.`discount`,
              `t3`.`shipping_fee`,
              `t3`.`points_used`,
              `t3`.`total`,
              `t3`.`points_earned`,
              `t3`.`coupon_code`,
              `t3`.`subscription_id`,
              `t3`.`payment_method`,
              `t3`.`shipping_prefecture`,
              `t3`.`is_gift`,
              `t3`.`order_date`,
              `t7`.`first_date`,
              `t7`.`cohort_month`,
              `t7`.`cohort_idx`
            FROM `t1` AS `t3`
            INNER JOIN (
              SELECT
                `t4`.`customer_id`,
                `t4`.`first_date`,
                DATE_TRUNC(`t4`.`first_date`, MONTH) AS `cohort_month`,
                (
                  (
                    EXTRACT(year FROM `t4`.`first_date`) * 12
                  ) + EXTRACT(month FROM `t4`.`first_date`)
                ) - 1 AS `cohort_idx`
              FROM (
                SELECT
                  `t2`.`customer_id`,
                  MIN(`t2`.`order_date`) AS `first_date`
                FROM `t1` AS `t2`
                GROUP BY
                  1
              ) AS `t4`
            ) AS `t7`
              ON `t3`.`customer_id` = `t7`.`customer_id`
          ) AS `t10`
          WHERE
            DATE_DIFF(`t10`.`order_date`, `t10`.`first_date`, DAY) <= 365
        ) AS `t11`
        GROUP BY
          1,
          2
      ) AS `t12`
    ) AS `t14`
    INNER JOIN (
      SELECT
        `t5`.`customer_id`,
        IF(
          (
            `t5`.`coupon_code` IS NOT NULL
          ) AND (
            `t5`.`coupon_code` <> ''
          ),
          'coupon',
          'no_coupon'
        ) AS `first_coupon`
      FROM (
        SELECT
          `t2`.`order_id`,
          `t2`.`customer_id`,
          `t2`.`ordered_at`,
          `t2`.`status`,
          `t2`.`channel`,
          `t2`.`subtotal`,
          `t2`.`discount`,
          `t2`.`shipping_fee`,
          `t2`.`points_used`,
          `t2`.`total`,
          `t2`.`points_earned`,
          `t2`.`coupon_code`,
          `t2`.`subscription_id`,
          `t2`.`payment_method`,
          `t2`.`shipping_prefecture`,
          `t2`.`is_gift`,
          `t2`.`order_date`,
          (
            ROW_NUMBER() OVER (
              PARTITION BY `t2`.`customer_id`
              ORDER BY `t2`.`ordered_at` ASC, `t2`.`order_id` ASC
            ) - 1
          ) + 1 AS `order_no`
        FROM `t1` AS `t2`
      ) AS `t5`
      WHERE
        `t5`.`order_no` = 1
    ) AS `t9`
      ON `t14`.`customer_id` = `t9`.`customer_id`
  ) AS `t15`
  GROUP BY
    1
) AS `t16`
ORDER BY
  `t16`.`customers` DESC,
  `t16`.`first_coupon` ASC NULLS LAST
