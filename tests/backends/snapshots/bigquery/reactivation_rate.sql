SELECT
  `t15`.`threshold_days`,
  `t15`.`dormant_customers`,
  `t15`.`reactivated`,
  `t15`.`revenue_after`,
  ieee_divide(
    CAST(FLOOR(
      (
        ieee_divide(CAST(`t15`.`reactivated` AS FLOAT64), NULLIF(`t15`.`dormant_customers`, 0)) * 10000
      ) + 0.5
    ) AS INT64),
    10000
  ) AS `reactivation_rate`
FROM (
  SELECT
    `t14`.`threshold_days`,
    COUNT(`t14`.`customer_id`) AS `dormant_customers`,
    COUNT(`t14`.`buyer`) AS `reactivated`,
    COALESCE(SUM(`t14`.`revenue_after`), 0) AS `revenue_after`
  FROM (
    SELECT
      `t13`.`customer_id`,
      `t13`.`orders`,
      `t13`.`revenue`,
      `t13`.`first_order`,
      `t13`.`last_order`,
      `t13`.`recency_days`,
      `t13`.`threshold_days`,
      `t9`.`buyer`,
      `t9`.`revenue_after`
    FROM (
      SELECT
        *
      FROM (
        SELECT
          `t10`.`customer_id`,
          `t10`.`orders`,
          `t10`.`revenue`,
          `t10`.`first_order`,
          `t10`.`last_order`,
          `t10`.`recency_days`,
          `t2`.`threshold_days`
        FROM (
          SELECT
            `t5`.`customer_id`,
            `t5`.`orders`,
            `t5`.`revenue`,
            `t5`.`first_order`,
            `t5`.`last_order`,
            DATE_DIFF(DATE(2026, 8, 2), `t5`.`last_order`, DAY) AS `recency_days`
          FROM (
            SELECT
              `t3`.`customer_id`,
              COUNT(`t3`.`order_id`) AS `orders`,
              SUM(`t3`.`total`) AS `revenue`,
              MIN(`t3`.`order_date`) AS `first_order`,
              MAX(`t3`.`order_date`) AS `last_order`
            FROM (
              SELECT
                `t1`.`order_id`,
                `t1`.`customer_id`,
                `t1`.`ordered_at`,
                `t1`.`status`,
                `t1`.`channel`,
                `t1`.`subtotal`,
                `t1`.`discount`,
                `t1`.`shipping_fee`,
                `t1`.`points_used`,
                `t1`.`total`,
                `t1`.`points_earned`,
                `t1`.`coupon_code`,
                `t1`.`subscription_id`,
                `t1`.`payment_method`,
                `t1`.`shipping_prefecture`,
                `t1`.`is_gift`,
                DATE(TIMESTAMP_ADD(`t1`.`ordered_at`, INTERVAL '9' HOUR)) AS `order_date`
              FROM `orders` AS `t1`
              WHERE
                `t1`.`status` = 'completed'
                AND `t1`.`customer_id` IS NOT NULL
                AND `t1`.`ordered_at` < DATETIME('2026-08-02T15:00:00')
            ) AS `t3`
            GROUP BY
              1
          ) AS `t5`
        ) AS `t10`
        CROSS JOIN `memtable_1` AS `t2`
      ) AS `t11`
      WHERE
        `t11`.`recency_days` >= `t11`.`threshold_days`
    ) AS `t13`
    LEFT OUTER JOIN (
      SELECT
        `t6`.`customer_id` AS `buyer`,
        `t6`.`revenue_after`
      FROM (
        SELECT
          `t4`.`customer_id`,
          SUM(`t4`.`total`) AS `revenue_after`
        FROM (
          SELECT
            `t1`.`order_id`,
            `t1`.`customer_id`,
            `t1`.`ordered_at`,
            `t1`.`status`,
            `t1`.`channel`,
            `t1`.`subtotal`,
            `t1`.`discount`,
            `t1`.`shipping_fee`,
            `t1`.`points_used`,
            `t1`.`total`,
            `t1`.`points_earned`,
            `t1`.`coupon_code`,
            `t1`.`subscription_id`,
            `t1`.`payment_method`,
            `t1`.`shipping_prefecture`,
            `t1`.`is_gift`,
            DATE(TIMESTAMP_ADD(`t1`.`ordered_at`, INTERVAL '9' HOUR)) AS `order_date`
          FROM `orders` AS `t1`
          WHERE
            `t1`.`status` = 'completed'
            AND `t1`.`customer_id` IS NOT NULL
            AND DATE(TIMESTAMP_ADD(`t1`.`ordered_at`, INTERVAL '9' HOUR)) > DATE(2026, 8, 2)
            AND DATE(TIMESTAMP_ADD(`t1`.`ordered_at`, INTERVAL '9' HOUR)) <= DATE(2026, 10, 31)
        ) AS `t4`
        GROUP BY
          1
      ) AS `t6`
    ) AS `t9`
      ON `t13`.`customer_id` = `t9`.`buyer`
  ) AS `t14`
  GROUP BY
    1
) AS `t15`
ORDER BY
  `t15`.`threshold_days` ASC NULLS LAST
